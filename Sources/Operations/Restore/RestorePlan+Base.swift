import Foundation

extension RestorePlan {
    /// Checks that the base exists and matches its size and sha256 (read in pieces).
    /// Blocking: call it off the event loops.
    public func verifyBase() throws(RestoreError) {
        do { try ArchiveObjectCheck.verifyBase(generation, in: index.store) } catch {
            var failure = RestoreError(error)
            failure.message += "; nothing applied"
            throw failure
        }
    }

    /// Copies the base out of the archive to `path` (durably), checking its size and
    /// sha256 in the same read; a copy that does not match is removed again. The one
    /// routine behind `--write-aof` and the temporary server's dump. Blocking.
    func copyBase(to path: String) throws(RestoreError) {
        let g = generation
        let store = index.store
        var digest = ""
        do {
            digest = try DurableFile.write(to: path) { sink throws(DurableFile.WriteError) in
                var position = 0
                while position < g.size {
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
            throw RestoreError(.archiveUnavailable, "\(error)", underlying: error)
        }
        guard digest == g.sha256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw RestoreError(.damagedArchive, "the base \(baseName) does not match its sha256 or size (index \(g.sha256.prefix(12))..., \(g.size) bytes; read \(digest.prefix(12))...); nothing written or applied")
        }
    }
}
