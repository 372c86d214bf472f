import Foundation

extension RestorePlan {
    /// Checks that the base exists and matches its size and sha256 (read in pieces).
    /// `continuing` is called after each piece with the bytes checked so far; when it
    /// returns false the check stops (Ctrl-C) and this returns false. Blocking: call it
    /// off the event loops.
    @discardableResult
    public func verifyBase(continuing: (_ checked: Int) -> Bool = { _ in true }) throws(RestoreError) -> Bool {
        do { return try ArchiveObjectCheck.verifyBase(generation, in: index.store, continuing: continuing) } catch {
            var failure = RestoreError(error)
            failure.message += "; nothing applied"
            throw failure
        }
    }

    /// Copies the base out of the archive to `path` (durably), checking its size and
    /// sha256 in the same read; a copy that does not match is removed again. The one
    /// routine behind `--write-aof` and the temporary server's dump. `continuing` is
    /// called after each piece with the bytes copied so far; when it returns false the
    /// copy stops (Ctrl-C), the partial file is removed and this throws `interrupted`.
    /// Blocking.
    func copyBase(to path: String, continuing: (_ copied: Int) -> Bool = { _ in true }) throws(RestoreError) {
        let g = generation
        let store = index.store
        var digest = ""
        var interrupted = false
        do {
            digest = try DurableFile.write(to: path) { sink throws(DurableFile.WriteError) in
                var position = 0
                while position < g.size {
                    if position > 0, !continuing(position) {
                        interrupted = true
                        throw DurableFile.WriteError(path: path, reason: "interrupted while copying the base \(baseName)")
                    }
                    let piece: [UInt8]
                    do { piece = try store.read(g.path, range: position..<min(g.size, position + (4 << 20))) } catch {
                        throw DurableFile.WriteError(path: path, reason: "cannot read the base \(baseName): \(error)")
                    }
                    if piece.isEmpty { break }
                    try sink.append(piece)
                    position += piece.count
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            if interrupted { throw RestoreError(.invalidRequest, "interrupted while copying the base \(baseName); the partial copy \(path) is removed") }
            throw RestoreError(.archiveUnavailable, "\(error)", underlying: error)
        }
        guard digest == g.sha256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw RestoreError(.damagedArchive, "the base \(baseName) does not match its sha256 or size (index \(g.sha256.prefix(12))..., \(g.size) bytes; read \(digest.prefix(12))...); nothing written or applied")
        }
    }
}
