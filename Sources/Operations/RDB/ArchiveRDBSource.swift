import RDB

/// An RDB object of an archive read for ``RDB/RDBReader`` through the archive's store, in
/// ranges: the base is never whole in memory nor copied to a file. One block is cached
/// (the reader asks for its blocks in order, each smaller than a cached block), so each
/// byte is fetched from the store once. Blocking: use it on the thread pool
/// (``ArchiveIO``), never on an event loop.
///
/// Given the object's sha256, it checks the bytes as they are used: each block is hashed
/// as it is fetched, blocks must come in order, and fetching the last one fails when the
/// whole does not match (``mismatch`` then says so, naming the object). For a base read
/// again after the check before writing (a folder's, or one no spool had room for).
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
    /// The sha256 the bytes must have, and how messages name the object (nil: not checked).
    private let expected: (sha256: String, what: String)?
    private var hasher = SHA256Hasher()
    private var hashed = 0
    /// Why the bytes read are not the object's recorded ones (nil: no such finding).
    public private(set) var mismatch: ArchiveError?

    /// Reads `key` of `store`, `count` bytes long, `blockSize` bytes per store read;
    /// checking them against `sha256` as they are fetched when given (`what` names the
    /// object in messages).
    public init(store: any ArchiveStore, key: String, count: Int, blockSize: Int = 8 << 20, sha256: String? = nil, what: String? = nil) {
        self.store = store
        self.key = key
        self.count = max(count, 0)
        self.blockSize = min(max(blockSize, 1 << 20), 64 << 20)
        expected = sha256.map { ($0, what ?? store.describe(key)) }
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
            try check(offset)
        }
        let from = offset - cachedStart
        let n = min(buffer.count, cached.count - from)
        cached.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + from, byteCount: n)
        }
        return n
    }

    /// Reads what is left past the last byte read (bytes after an RDB's trailer), so the
    /// whole object is checked against its sha256 (nothing to do without one).
    public func checkRest() throws(RDBError) {
        guard expected != nil else { return }
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        var offset = max(hashed, cachedStart + cached.count)
        while offset < count {
            var failure: RDBError?
            let n = scratch.withUnsafeMutableBytes { buffer in
                do throws(RDBError) { return try read(into: buffer, at: offset) } catch { failure = error; return 0 }
            }
            if let failure { throw failure }
            offset += n
        }
    }

    /// Hashes the block just fetched at `offset`; at the object's end, compares the sha256.
    private func check(_ offset: Int) throws(RDBError) {
        guard let expected else { return }
        if let mismatch { throw RDBError(.io, at: offset, mismatch.message) }
        var problem: String?
        if offset != hashed {
            problem = "was read out of order (byte \(offset), \(hashed) checked): its sha256 cannot be checked"
        } else {
            cached.withUnsafeBytes { hasher.update($0) }
            hashed += cached.count
            if hashed >= count {
                let digest = hasher.finish()
                if digest != expected.sha256 {
                    problem = "does not match its sha256 (index \(expected.sha256.prefix(12))..., object \(digest.prefix(12))...): it changed since the check before writing"
                }
            }
        }
        guard let problem else { return }
        cached = []
        mismatch = ArchiveError(.damaged, "\(expected.what) \(problem)", object: store.describe(key))
        throw RDBError(.io, at: offset, "\(expected.what) \(problem)")
    }
}
