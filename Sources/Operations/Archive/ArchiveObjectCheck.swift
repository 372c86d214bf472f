import NIOCore

/// Reads archive objects (whole, or in pieces for any size) and checks them against their
/// records (size, SHA-256) before any byte is used: the one check every reader of an archive makes (restore,
/// `archive log`, `archive verify`, `archive copy`).
public enum ArchiveObjectCheck {
    /// A chunk's bytes, checked against its record.
    public static func chunk(_ chunk: ArchiveRecord.Chunk, in store: any ArchiveStore) throws(ArchiveError) -> ByteBuffer {
        try object(chunk.path, size: chunk.length, sha256: chunk.sha256, what: description(of: chunk, in: store), in: store)
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
    /// returns false: the base was not wholly checked. `sink` gets each piece as it is
    /// hashed, as ``stream(_:size:sha256:what:in:into:)``'s does (a restore's spool).
    @discardableResult
    public static func verifyBase(_ generation: ArchiveRecord.Generation, in store: any ArchiveStore,
                                  into sink: (UnsafeRawBufferPointer, Int) throws(ArchiveError) -> Void = { _, _ in },
                                  continuing: (_ checked: Int) -> Bool = { _ in true }) throws(ArchiveError) -> Bool {
        let what = "the base of generation \(generation.gen) (\(store.describe(generation.path)))"
        var stopped = false
        do throws(ArchiveError) {
            try stream(generation.path, size: generation.size, sha256: generation.sha256, what: what, in: store) { raw, at throws(ArchiveError) in
                try sink(raw, at)
                let checked = at + raw.count
                if checked < generation.size, !continuing(checked) {
                    stopped = true
                    throw ArchiveError(.invalidRequest, "stopped")
                }
            }
        } catch {
            if stopped { return false }
            throw error
        }
        return true
    }

    /// Checks a chunk against its record, reading it in pieces and handing each, with its
    /// offset in the chunk, to `sink` as it arrives (see ``stream(_:size:sha256:what:in:into:)``).
    public static func chunk(_ chunk: ArchiveRecord.Chunk, in store: any ArchiveStore,
                             into sink: (UnsafeRawBufferPointer, Int) throws(ArchiveError) -> Void) throws(ArchiveError) {
        try stream(chunk.path, size: chunk.length, sha256: chunk.sha256, what: description(of: chunk, in: store), in: store, into: sink)
    }

    /// Reads an object in pieces (``ArchiveStore/readPieces(_:_:)``) and checks its size
    /// and SHA-256 against the record, handing each piece and its offset to `sink` as it
    /// arrives, hashed on the way. The pieces are not checked yet when `sink` gets them:
    /// it may store them (a buffer, a spool file) but nothing may use them before this
    /// returns. More bytes than `size` fail as soon as they arrive, so `sink` never gets
    /// a byte past `size`. Memory: one piece, whatever the object's size.
    public static func stream(_ key: String, size: Int, sha256: String, what: String, in store: any ArchiveStore,
                              into sink: (UnsafeRawBufferPointer, Int) throws(ArchiveError) -> Void) throws(ArchiveError) {
        let name = store.describe(key)
        var hasher = SHA256Hasher()
        var count = 0
        let found = try store.readPieces(key) { raw throws(ArchiveError) in
            guard raw.count <= size - count else {
                throw ArchiveError(.damaged, "\(what) has more than the \(size) bytes the index says", object: name)
            }
            hasher.update(raw)
            try sink(raw, count)
            count += raw.count
        }
        guard found != nil else { throw ArchiveError(.missing, "\(what) is missing", object: name) }
        guard count == size else {
            throw ArchiveError(.damaged, "\(what) has \(count) bytes, the index says \(size)", object: name)
        }
        let digest = hasher.finish()
        guard digest == sha256 else {
            throw ArchiveError(.damaged, "\(what) does not match its sha256 (index \(sha256.prefix(12))..., object \(digest.prefix(12))...)", object: name)
        }
    }

    /// How messages name a chunk.
    static func description(of chunk: ArchiveRecord.Chunk, in store: any ArchiveStore) -> String {
        "chunk \(store.describe(chunk.path)) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end))"
    }

    static func object(_ key: String, size: Int, sha256: String, what: String, in store: any ArchiveStore) throws(ArchiveError) -> ByteBuffer {
        if store.readsAreDownloads {
            // Pieces into one buffer of the recorded size: no growing and copying as the
            // body arrives, and never more than `size` bytes held.
            var bytes = ByteBufferAllocator().buffer(capacity: size)
            try stream(key, size: size, sha256: sha256, what: what, in: store) { raw, _ throws(ArchiveError) in bytes.writeBytes(raw) }
            return bytes
        }
        let name = store.describe(key)
        // The size first: an object grown far past its record is refused unread, not
        // read whole into memory.
        guard let stored = try store.size(of: key) else { throw ArchiveError(.missing, "\(what) is missing", object: name) }
        guard stored == size else { throw ArchiveError(.damaged, "\(what) has \(stored) bytes, the index says \(size)", object: name) }
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
