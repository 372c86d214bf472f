import AOF

/// The commands an archive holds, with their times and offsets, like mysqlbinlog: for
/// finding when a bad write happened.
public enum ArchiveLog {
    /// Which commands to list.
    public struct Filter: Sendable {
        /// From this second on (inclusive), by `#TS` (or the size samples without them).
        public var from: Double?
        /// Up to this second (inclusive).
        public var to: Double?
        /// Commands whose first argument (the key) matches this glob.
        public var key: String?
        /// Commands of this name (any case).
        public var command: String?

        public init(from: Double? = nil, to: Double? = nil, key: String? = nil, command: String? = nil) {
            self.from = from; self.to = to; self.key = key; self.command = command?.uppercased()
        }
    }

    /// One listed command.
    public struct Line: Sendable {
        /// Its `#TS` second, or (approximate) the first size sample that includes it.
        public let time: Double?
        /// True when ``time`` comes from a sample, not from `#TS`.
        public let approximate: Bool
        /// The generation whose base the stream follows (nil: none, the base was pruned):
        /// with ``stream`` and ``offset`` it is what `replay-until --offset` takes.
        public let generation: Int?
        public let stream: Int
        public let offset: Int
        /// The command as text: arguments quoted when needed, long ones shortened.
        public let text: String
    }

    /// Calls `body` with every command of every stream, in order, that passes `filter`.
    /// Streams are read chunk by chunk, so memory does not grow with the archive.
    public static func read(_ index: ArchiveIndex, filter: Filter, _ body: (Line) throws -> Void) throws {
        let generations = index.generations
        for stream in index.streams.map(\.stream).sorted() {
            let generation = generations.last { $0.firstStream <= stream }?.gen
            let samples = index.samples.filter { $0.stream == stream }.sorted { $0.at < $1.at }
            var timestamp: Int64?
            var end = 0
            for chunk in index.chunks(of: stream) where chunk.offset == end {
                end = chunk.end
                let path = index.store.describe(chunk.path)
                let reader = AOFFileReader(bytes: try ArchiveObjectCheck.chunk(chunk, in: index.store), name: path)
                while true {
                    let next: AOFEntry?
                    do { next = try reader.next() } catch { throw ArchiveError(.damaged, "chunk \(path) does not parse: \(error)", object: path, underlying: error) }
                    guard let entry = next else { break }
                    if case .timestamp(let ts) = entry.kind { timestamp = ts; continue }
                    guard entry.isCommand else { continue }
                    let offset = chunk.offset + entry.offset
                    var time = timestamp.map(Double.init)
                    var approximate = false
                    if time == nil, let sample = samples.first(where: { $0.size >= offset + entry.length }) {
                        time = sample.at
                        approximate = true
                    }
                    if let from = filter.from, (time ?? .infinity) < from { continue }
                    if let to = filter.to, (time ?? -.infinity) >= to + 1 { continue }
                    if let name = filter.command, entry.name != name { continue }
                    if let glob = filter.key {
                        guard let key = entry.argument(1), Glob.matches(glob, key) else { continue }
                    }
                    try body(Line(time: time, approximate: approximate, generation: generation, stream: stream, offset: offset, text: render(entry)))
                }
            }
        }
    }

    /// `SET "a key" value`: arguments quoted when they hold blanks, quotes or binary bytes,
    /// values over 64 bytes shortened.
    static func render(_ entry: AOFEntry) -> String {
        entry.arguments.enumerated().map { i, buffer in
            var bytes = Array(buffer.readableBytesView)
            var suffix = ""
            if bytes.count > 64 { suffix = "...(\(bytes.count) bytes)"; bytes = Array(bytes.prefix(64)) }
            let plain = !bytes.isEmpty && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
            var text: String
            if plain { text = String(decoding: bytes, as: UTF8.self) } else {
                text = "\""
                for b in bytes {
                    switch b {
                    case UInt8(ascii: "\""): text += "\\\""
                    case UInt8(ascii: "\\"): text += "\\\\"
                    case 0x0A: text += "\\n"
                    case 0x0D: text += "\\r"
                    case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(b))
                    default: text += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
                    }
                }
                text += "\""
            }
            return (i == 0 ? text.uppercased() : text) + suffix
        }.joined(separator: " ")
    }
}
