import NIOCore

/// Where an archive's objects live: the one seam every archive read and write goes
/// through, so a local folder and an S3-compatible bucket are two implementations of the
/// same archive rather than two copies of the code that uses it.
///
/// Keys are archive-relative paths (`gen-000001/base.rdb`,
/// `stream-000001/000000000000.chunk`, see ``ArchiveLayout``). Objects are immutable once
/// written: a writer never changes an object in place, it writes a new one (chunks and
/// bases) or publishes index records. The index itself is the store's business (an
/// appended `index.jsonl` in a folder; immutable segments in a bucket), behind
/// ``readIndex()`` and ``openIndexWriter(creating:)``.
///
/// Calls block: they are made from the collector's thread or from a thread pool, never
/// from an event loop (``ArchiveIO`` runs them off the loops for async callers).
public protocol ArchiveStore: Sendable {
    /// The archive as the person named it: a folder path or `s3://BUCKET/PREFIX`.
    var location: String { get }

    /// The full name of one object, for messages: `DIR/KEY` or `s3://BUCKET/PREFIX/KEY`.
    func describe(_ key: String) -> String

    /// The object's size in bytes; nil when there is no such object.
    func size(of key: String) throws(ArchiveError) -> Int?

    /// The whole object; nil when there is no such object.
    func read(_ key: String) throws(ArchiveError) -> [UInt8]?

    /// The whole object in a `ByteBuffer`; nil when there is no such object. A store
    /// whose reads arrive in one (a bucket's HTTP body) hands it over as it is: a chunk is
    /// then held once, not copied to an array and back.
    func readBuffer(_ key: String) throws(ArchiveError) -> ByteBuffer?

    /// Bytes `range` of the object (fewer only when the object is shorter).
    func read(_ key: String, range: Range<Int>) throws(ArchiveError) -> [UInt8]

    /// Reads the whole object in order, in pieces of bounded size (a file's blocks, a
    /// bucket's HTTP body as it arrives), handing each to `body`, and returns how many
    /// bytes there were; nil when there is no such object. An object of any size is read
    /// this way without being held whole. An error `body` throws ends the read and is
    /// rethrown as it is.
    func readPieces(_ key: String, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) -> Int?

    /// Writes an object durably under `key` and returns its size and SHA-256: `body`
    /// appends the bytes through the writer it is given, in one or many calls. Nothing is
    /// visible under `key` unless the whole object was written; an existing object of
    /// that key is replaced only when `replacing` is true.
    @discardableResult
    func write(_ key: String, replacing: Bool,
               _ body: (inout ArchiveObjectWriter) throws(ArchiveError) -> Void) throws(ArchiveError) -> ArchiveObjectInfo

    /// The keys under `prefix` (archive-relative), in no particular order.
    func list(prefix: String) throws(ArchiveError) -> [String]

    /// Deletes objects; a key that is already gone is not an error.
    func delete(_ keys: [String]) throws(ArchiveError)

    /// The descriptor (`archive.json`) and the index's lines as stored, in order. Nil when
    /// the location holds no archive.
    func readIndex() throws(ArchiveError) -> ArchiveIndexData?

    /// Takes the archive's single-writer lock (refusing with ``ArchiveError/Kind/locked``
    /// when another writer holds it) and returns the writer of index records. With a
    /// descriptor, an empty location becomes a new archive of that descriptor.
    func openIndexWriter(creating descriptor: ArchiveDescriptor?) throws(ArchiveError) -> any ArchiveIndexWriting

    /// How many reads in flight suit the store (see the default in the extension).
    var parallelReads: Int { get }

    /// True when every read is a download (a bucket): reading an object twice then costs
    /// the network twice, so a restore keeps what it checked in a local spool instead.
    var readsAreDownloads: Bool { get }
}

extension ArchiveStore {
    /// How many reads in flight suit the store (restores prefetch that many chunks at
    /// once): 1 for a local disk, a few for object storage, whose latency they hide.
    public var parallelReads: Int { 1 }

    /// Reads are local unless the store says otherwise.
    public var readsAreDownloads: Bool { false }

    /// The whole object through ``readBuffer(_:)``, as one piece: for stores that do not
    /// read in pieces themselves.
    public func readPieces(_ key: String, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) -> Int? {
        guard let bytes = try readBuffer(key) else { return nil }
        var failure: ArchiveError?
        bytes.withUnsafeReadableBytes { raw in
            do throws(ArchiveError) { try body(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes.readableBytes
    }

    /// The whole object, copied from ``read(_:)``.
    public func readBuffer(_ key: String) throws(ArchiveError) -> ByteBuffer? {
        try read(key).map { ByteBuffer(bytes: $0) }
    }

    /// Writes a whole object held in memory.
    @discardableResult
    public func write<Bytes: Collection>(_ key: String, bytes: Bytes, replacing: Bool = false) throws(ArchiveError) -> ArchiveObjectInfo
    where Bytes.Element == UInt8 {
        try write(key, replacing: replacing) { writer throws(ArchiveError) in try writer.append(bytes) }
    }

    /// Writes `pieces`, one after another, as the object `key`: how both collectors write
    /// a chunk from the commands they hold, without joining them in memory first. Small
    /// pieces go out gathered in blocks of up to ``pieceBlockBytes``: a chunk is thousands
    /// of commands, and one write(2) per 90-byte SET cost the Redis host more CPU in the
    /// kernel than all the collector's hashing (7,800 writes a second at 7 MB/s).
    @discardableResult
    func write<Pieces: Sequence>(_ key: String, pieces: Pieces, replacing: Bool) throws(ArchiveError) -> ArchiveObjectInfo
    where Pieces.Element == ByteBuffer {
        try write(key, replacing: replacing) { writer throws(ArchiveError) in
            func append(_ bytes: ByteBuffer) throws(ArchiveError) {
                var failure: ArchiveError?
                bytes.withUnsafeReadableBytes { raw in
                    do throws(ArchiveError) { try writer.append(raw: raw) } catch { failure = error }
                }
                if let failure { throw failure }
            }
            var block = ByteBufferAllocator().buffer(capacity: pieceBlockBytes)
            for var piece in pieces {
                if block.readableBytes + piece.readableBytes > pieceBlockBytes, block.readableBytes > 0 {
                    try append(block)
                    block.clear()
                }
                if piece.readableBytes >= pieceBlockBytes { try append(piece) } else { block.writeBuffer(&piece) }
            }
            if block.readableBytes > 0 { try append(block) }
        }
    }
}

/// The most bytes ``ArchiveStore/write(_:pieces:replacing:)`` gathers before writing them.
let pieceBlockBytes = 256 << 10

/// What ``ArchiveStore/write(_:replacing:_:)`` wrote.
public struct ArchiveObjectInfo: Sendable, Hashable {
    /// Bytes written.
    public var size: Int
    /// Their SHA-256, lower-case hex.
    public var sha256: String

    /// Creates the description of a written object.
    public init(size: Int, sha256: String) {
        self.size = size
        self.sha256 = sha256
    }
}

/// An archive's stored index: the descriptor and the records' lines.
public struct ArchiveIndexData: Sendable {
    /// `archive.json`'s bytes.
    public var descriptor: [UInt8]
    /// Each record as a line of JSON, in the order published, without newlines.
    public var lines: [ArraySlice<UInt8>]
    /// True when the last line was cut short (a crash while appending it).
    public var tornTail: Bool
    /// The name of the index for messages (`DIR/index.jsonl`, `s3://.../index/`).
    public var name: String

    /// Creates index data.
    public init(descriptor: [UInt8], lines: [ArraySlice<UInt8>], tornTail: Bool, name: String) {
        self.descriptor = descriptor
        self.lines = lines
        self.tornTail = tornTail
        self.name = name
    }
}

/// Publishes index records while holding the archive's single-writer lock; the lock goes
/// with the writer (``close()`` or deinit).
public protocol ArchiveIndexWriting: AnyObject, Sendable {
    /// The store written to.
    var store: any ArchiveStore { get }
    /// Publishes records durably, in order: once this returns they are part of the
    /// archive for every reader.
    func append(_ records: [ArchiveRecord]) throws(ArchiveError)
    /// Replaces every record by `records` at once (archive prune), durably.
    func replaceAll(with records: [ArchiveRecord]) throws(ArchiveError)
    /// Gives up the lock.
    func close()
}

extension ArchiveIndexWriting {
    /// Publishes one record.
    public func append(_ record: ArchiveRecord) throws(ArchiveError) { try append([record]) }
}

/// Where ``ArchiveStore/write(_:replacing:_:)``'s body appends an object's bytes.
public struct ArchiveObjectWriter {
    /// Bytes appended so far.
    public private(set) var count = 0
    private var hasher = SHA256Hasher()
    private let sink: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void

    /// A writer handing every appended piece to `sink` (a store's file or upload).
    public init(sink: @escaping (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) {
        self.sink = sink
    }

    /// Appends bytes.
    public mutating func append<Bytes: Collection>(_ bytes: Bytes) throws(ArchiveError) where Bytes.Element == UInt8 {
        var failure: ArchiveError?
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            do throws(ArchiveError) { try append(raw: UnsafeRawBufferPointer(buffer)) } catch { failure = error }
        }
        if done == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { raw in
                do throws(ArchiveError) { try append(raw: raw) } catch { failure = error }
            }
        }
        if let failure { throw failure }
    }

    /// Appends raw bytes.
    public mutating func append(raw: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard raw.count > 0 else { return }
        try sink(raw)
        hasher.update(raw)
        count += raw.count
    }

    /// The size and SHA-256 of what was appended.
    public func finish() -> ArchiveObjectInfo { ArchiveObjectInfo(size: count, sha256: hasher.finish()) }
}
