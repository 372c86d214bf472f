import Foundation

/// One line of an archive's `index.jsonl`: what the collector copied, saw or decided, in
/// the order it happened. The index is the archive's truth: a chunk file without its
/// record is an orphan to ignore, and a record is only appended after its bytes are safe.
///
/// Two numbering schemes keep the archive unambiguous whatever Redis does with its own
/// sequence numbers (they restart when the AOF folder is recreated):
/// - a **generation** (`gen`) is one base file the archive holds, numbered 1, 2, 3...;
/// - a **stream** is one incr file the collector followed, numbered 1, 2, 3... in the
///   order the files were opened by Redis; its chunks live under `stream-NNNNNN/`.
/// A generation's base plus every stream from its `firstStream` on, in order, is a valid
/// replay stream, up to the first gap.
public enum ArchiveRecord: Sendable, Hashable {
    /// A base file copied into the archive.
    case generation(Generation)
    /// The collector started following an incr file.
    case stream(Stream)
    /// Bytes of an incr file, copied to a chunk file.
    case chunk(Chunk)
    /// An incr file stopped growing for good (Redis moved on to the next one).
    case streamEnd(StreamEnd)
    /// At wall time `at` the stream's file had `size` bytes: the time map when #TS
    /// annotations are off.
    case sample(Sample)
    /// Continuity is broken: bytes that could not be copied, or a change the collector
    /// could not follow. Replay cannot cross a gap.
    case gap(Gap)
    /// A named restore point.
    case mark(Mark)

    /// A base file: `path` (relative to the archive) holds a copy of Redis's `sourceFile`.
    public struct Generation: Sendable, Hashable, Codable {
        public var gen: Int
        public var sourceFile: String
        public var sourceSeq: Int64
        /// What the base holds.
        public var format: BaseFormat
        public var path: String
        public var size: Int
        public var sha256: String
        /// The first stream whose commands follow this base.
        public var firstStream: Int
        /// Unix seconds no earlier than the moment the base's data set was cut (when its
        /// incr file was opened): the base holds no write made after this time.
        public var asOf: Double
        public var recordedAt: Double
        /// The inode of the source file (optional, added by the collector): with the name it
        /// tells a new base from an old one when Redis's sequence numbers restart.
        public var sourceInode: UInt64?

        public init(gen: Int, sourceFile: String, sourceSeq: Int64, format: BaseFormat, path: String, size: Int,
                    sha256: String, firstStream: Int, asOf: Double, recordedAt: Double, sourceInode: UInt64? = nil) {
            self.gen = gen; self.sourceFile = sourceFile; self.sourceSeq = sourceSeq; self.format = format
            self.path = path; self.size = size; self.sha256 = sha256; self.firstStream = firstStream
            self.asOf = asOf; self.recordedAt = recordedAt; self.sourceInode = sourceInode
        }
    }

    /// An incr file the collector follows from its first byte.
    public struct Stream: Sendable, Hashable, Codable {
        public var stream: Int
        public var sourceFile: String
        public var sourceSeq: Int64
        /// When the collector first saw the file (an upper bound on when Redis opened it).
        public var openedBy: Double
        public var recordedAt: Double
        /// The inode of the source file (optional, added by the collector): a restarted
        /// collector checks it is resuming the same file, not a new one of the same name.
        public var sourceInode: UInt64?

        public init(stream: Int, sourceFile: String, sourceSeq: Int64, openedBy: Double, recordedAt: Double, sourceInode: UInt64? = nil) {
            self.stream = stream; self.sourceFile = sourceFile; self.sourceSeq = sourceSeq
            self.openedBy = openedBy; self.recordedAt = recordedAt; self.sourceInode = sourceInode
        }
    }

    /// Bytes `offset ..< offset+length` of a stream's file, cut at command boundaries.
    public struct Chunk: Sendable, Hashable, Codable {
        public var stream: Int
        public var offset: Int
        public var length: Int
        public var sha256: String
        public var path: String
        /// Commands in the chunk (annotations not counted).
        public var commands: Int
        /// The first and last `#TS` seconds inside the chunk, if any.
        public var firstTimestamp: Int64?
        public var lastTimestamp: Int64?
        public var copiedAt: Double

        public init(stream: Int, offset: Int, length: Int, sha256: String, path: String, commands: Int,
                    firstTimestamp: Int64?, lastTimestamp: Int64?, copiedAt: Double) {
            self.stream = stream; self.offset = offset; self.length = length; self.sha256 = sha256
            self.path = path; self.commands = commands; self.firstTimestamp = firstTimestamp
            self.lastTimestamp = lastTimestamp; self.copiedAt = copiedAt
        }

        /// The offset just after the chunk.
        public var end: Int { offset + length }
    }

    /// A stream's file is complete at `size` bytes.
    public struct StreamEnd: Sendable, Hashable, Codable {
        public var stream: Int
        public var size: Int
        public var at: Double

        public init(stream: Int, size: Int, at: Double) { self.stream = stream; self.size = size; self.at = at }
    }

    /// The stream's file size at a moment.
    public struct Sample: Sendable, Hashable, Codable {
        public var stream: Int
        public var size: Int
        public var at: Double

        public init(stream: Int, size: Int, at: Double) { self.stream = stream; self.size = size; self.at = at }
    }

    /// What is missing: from `offset` of `stream` (nil: the whole stream or between
    /// streams), during `from ..< to` wall time, and why.
    public struct Gap: Sendable, Hashable, Codable {
        public var stream: Int?
        public var offset: Int?
        public var from: Double
        public var to: Double
        public var reason: String

        public init(stream: Int?, offset: Int?, from: Double, to: Double, reason: String) {
            self.stream = stream; self.offset = offset; self.from = from; self.to = to; self.reason = reason
        }
    }

    /// A named restore point: the collector wrote `key` (= ``Mark/key(for:)``) to the
    /// server at `at`, so the write shows where the mark is in the AOF.
    public struct Mark: Sendable, Hashable, Codable {
        public var name: String
        public var key: String
        public var at: Double
        /// The stream being written when the mark was made, if known.
        public var stream: Int?

        public init(name: String, key: String, at: Double, stream: Int?) {
            self.name = name; self.key = key; self.at = at; self.stream = stream
        }

        /// The reserved key a mark writes: `redkeep:mark:<name>`.
        public static func key(for name: String) -> String { "redkeep:mark:" + name }
    }
}

extension ArchiveRecord: Codable {
    private enum Kind: String, Codable {
        case gen, stream, chunk, streamEnd = "stream-end", sample, gap, mark
    }

    private enum TypeKey: String, CodingKey { case type }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: TypeKey.self).decode(Kind.self, forKey: .type)
        switch kind {
        case .gen: self = .generation(try Generation(from: decoder))
        case .stream: self = .stream(try Stream(from: decoder))
        case .chunk: self = .chunk(try Chunk(from: decoder))
        case .streamEnd: self = .streamEnd(try StreamEnd(from: decoder))
        case .sample: self = .sample(try Sample(from: decoder))
        case .gap: self = .gap(try Gap(from: decoder))
        case .mark: self = .mark(try Mark(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .generation(let r): try container.encode(Kind.gen, forKey: .type); try r.encode(to: encoder)
        case .stream(let r): try container.encode(Kind.stream, forKey: .type); try r.encode(to: encoder)
        case .chunk(let r): try container.encode(Kind.chunk, forKey: .type); try r.encode(to: encoder)
        case .streamEnd(let r): try container.encode(Kind.streamEnd, forKey: .type); try r.encode(to: encoder)
        case .sample(let r): try container.encode(Kind.sample, forKey: .type); try r.encode(to: encoder)
        case .gap(let r): try container.encode(Kind.gap, forKey: .type); try r.encode(to: encoder)
        case .mark(let r): try container.encode(Kind.mark, forKey: .type); try r.encode(to: encoder)
        }
    }
}
