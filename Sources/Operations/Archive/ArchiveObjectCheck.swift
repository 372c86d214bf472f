import NIOCore

/// Reads archive objects whole and checks them against their records (size, SHA-256)
/// before any byte is used: the one check every reader of an archive makes (restore,
/// `archive log`, `archive verify`, `archive copy`).
public enum ArchiveObjectCheck {
    /// A chunk's bytes, checked against its record.
    public static func chunk(_ chunk: ArchiveRecord.Chunk, in store: any ArchiveStore) throws(ArchiveError) -> ByteBuffer {
        let what = "chunk \(store.describe(chunk.path)) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end))"
        return try object(chunk.path, size: chunk.length, sha256: chunk.sha256, what: what, in: store)
    }

    /// A generation's base, checked against its record. Bases can be large: only for
    /// callers that need them in memory (``verifyBase(_:in:)`` streams instead).
    public static func base(_ generation: ArchiveRecord.Generation, in store: any ArchiveStore) throws(ArchiveError) -> ByteBuffer {
        let what = "the base of generation \(generation.gen) (\(store.describe(generation.path)))"
        return try object(generation.path, size: generation.size, sha256: generation.sha256, what: what, in: store)
    }

    /// Checks a base's size and SHA-256, reading it in pieces (memory stays bounded).
    /// `continuing` is called after each piece with the bytes checked so far (a progress
    /// bar's count); when it returns false the check stops there (Ctrl-C) and this
    /// returns false: the base was not wholly checked.
    @discardableResult
    public static func verifyBase(_ generation: ArchiveRecord.Generation, in store: any ArchiveStore,
                                  continuing: (_ checked: Int) -> Bool = { _ in true }) throws(ArchiveError) -> Bool {
        let name = store.describe(generation.path)
        let what = "the base of generation \(generation.gen) (\(name))"
        guard let size = try store.size(of: generation.path) else {
            throw ArchiveError(.missing, "\(what) is missing", object: name)
        }
        guard size == generation.size else {
            throw ArchiveError(.damaged, "\(what) has \(size) bytes, the index says \(generation.size)", object: name)
        }
        var hasher = SHA256Hasher()
        var position = 0
        let piece = 8 << 20
        while position < size {
            let bytes = try store.read(generation.path, range: position..<min(size, position + piece))
            guard !bytes.isEmpty else { throw ArchiveError(.damaged, "\(what) ends at byte \(position), the index says \(size)", object: name) }
            hasher.update(bytes)
            position += bytes.count
            if position < size, !continuing(position) { return false }
        }
        let digest = hasher.finish()
        guard digest == generation.sha256 else {
            throw ArchiveError(.damaged, "\(what) does not match its sha256 (index \(generation.sha256.prefix(12))..., object \(digest.prefix(12))...)", object: name)
        }
        return true
    }

    static func object(_ key: String, size: Int, sha256: String, what: String, in store: any ArchiveStore) throws(ArchiveError) -> ByteBuffer {
        let name = store.describe(key)
        guard let bytes = try store.readBuffer(key) else { throw ArchiveError(.missing, "\(what) is missing", object: name) }
        guard bytes.readableBytes == size else {
            throw ArchiveError(.damaged, "\(what) has \(bytes.readableBytes) bytes, the index says \(size)", object: name)
        }
        var hasher = SHA256Hasher()
        bytes.withUnsafeReadableBytes { hasher.update($0) }
        let digest = hasher.finish()
        guard digest == sha256 else {
            throw ArchiveError(.damaged, "\(what) does not match its sha256 (index \(sha256.prefix(12))..., object \(digest.prefix(12))...)", object: name)
        }
        return bytes
    }
}
