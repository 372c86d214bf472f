import RDB

/// An RDB object of an archive read for ``RDB/RDBReader`` through the archive's store, in
/// ranges: the base is never whole in memory nor copied to a file. One block is cached
/// (the reader asks for its blocks in order, each smaller than a cached block), so each
/// byte is fetched from the store once. Blocking: use it on the thread pool
/// (``ArchiveIO``), never on an event loop.
public final class ArchiveRDBSource: RDBByteSource {
    /// The store.
    public let store: any ArchiveStore
    /// The object's key in the store.
    public let key: String
    /// The object's size (from its record, checked before use by ``ArchiveObjectCheck``).
    public let count: Int
    /// Bytes fetched from the store at a time (1 MiB to 64 MiB).
    public let blockSize: Int
    private var cached: [UInt8] = []
    private var cachedStart = 0

    /// Reads `key` of `store`, `count` bytes long, `blockSize` bytes per store read.
    public init(store: any ArchiveStore, key: String, count: Int, blockSize: Int = 8 << 20) {
        self.store = store
        self.key = key
        self.count = max(count, 0)
        self.blockSize = min(max(blockSize, 1 << 20), 64 << 20)
    }

    /// Copies from the cached block, fetching the block that holds `offset` when needed.
    /// Throws ``RDB/RDBError`` (kind `.io`) naming the object and the offset.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int {
        guard offset >= 0, offset < count, buffer.count > 0 else { return 0 }
        if offset < cachedStart || offset >= cachedStart + cached.count {
            let end = min(count, offset + blockSize)
            do { cached = try store.read(key, range: offset..<end) } catch {
                cached = []
                throw RDBError(.io, at: offset, "cannot read \(store.describe(key)) bytes \(offset)..<\(end): \(error)")
            }
            cachedStart = offset
            guard !cached.isEmpty else {
                throw RDBError(.io, at: offset, "\(store.describe(key)) ends at byte \(offset), its record says \(count)")
            }
        }
        let from = offset - cachedStart
        let n = min(buffer.count, cached.count - from)
        cached.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + from, byteCount: n)
        }
        return n
    }
}
