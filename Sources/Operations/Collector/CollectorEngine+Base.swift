import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension CollectorEngine {
    /// Copies the manifest's base into a new generation when it is not the one archived
    /// last. Redis names a base in the manifest only once its rewrite finished, so the
    /// file is complete; it is read through a descriptor opened first, so a later rewrite
    /// deleting it cannot cut the copy short.
    ///
    /// An RDB base's CRC-64 is checked as it is copied: a base whose trailer does not
    /// match is not archived (the object is abandoned, no record published) and the pass
    /// fails with an error naming it; the next pass tries again (the collector's status
    /// shows the error meanwhile), and the generation before stays the one restores use.
    func copyBase(name: String, seq: Int64, format: BaseFormat, firstStream: Int, now: Double) throws(CollectorError) {
        let path = aofDirectory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // replaced since the manifest was read: the next pass sees the newer one
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let identity = FileIdentity(name: name, inode: UInt64(st.st_ino))
        guard identity != lastGeneration else { return }
        // The base holds no write made after its incr file was opened (Redis opens it just
        // before forking the rewrite), and none after the base's own mtime.
        let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        let asOf = min(openedBy[firstStream] ?? now, mtime)
        try recordGeneration(sourceFile: name, seq: seq, format: format, inode: identity.inode, firstStream: firstStream,
                             asOf: asOf, now: now) { writer throws(ArchiveError) in
            var block = [UInt8](repeating: 0, count: 1 << 20)
            var position = 0
            var trailer = RDBStreamingChecksum()
            while true {
                limiter.waitBlocking()
                let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
                if got < 0 && errno == EINTR { continue }
                guard got >= 0 else { throw ArchiveError(.io, "cannot read \(path) at byte \(position): " + String(cString: strerror(errno)), object: path) }
                if got == 0 { break }
                try writer.append(block[0..<got])
                if format == .rdb { block.withUnsafeBytes { trailer.update(UnsafeRawBufferPointer(rebasing: $0[..<got])) } }
                limiter.charge(got)
                position += got
            }
            if format == .rdb, let problem = trailer.problem() {
                throw ArchiveError(.damaged, "the RDB base \(path) is damaged: \(problem); not archived (tried again at the next pass)", object: path)
            }
        }
    }

    /// Writes a generation's base (durably, through `fill`) and then its `gen` record.
    func recordGeneration(sourceFile: String, seq: Int64, format: BaseFormat, inode: UInt64, firstStream: Int, asOf: Double,
                          now: Double, fill: (inout ArchiveObjectWriter) throws(ArchiveError) -> Void) throws(CollectorError) {
        let gen = nextGeneration
        let relative = ArchiveLayout.basePath(gen: gen, format: format)
        let written: ArchiveObjectInfo
        do {
            // An object of this key without a record is an orphan of a crash: replace it.
            written = try store.write(relative, replacing: true, fill)
        } catch {
            var failure = CollectorError(error)
            failure.message = "cannot copy the base \(aofDirectory)/\(sourceFile) into the archive: \(error)"
            throw failure
        }
        let size = written.size, sha = written.sha256
        try append(.generation(.init(gen: gen, sourceFile: sourceFile, sourceSeq: seq, format: format, path: relative, size: size,
                                     sha256: sha, firstStream: firstStream, asOf: asOf, recordedAt: now, sourceInode: inode)))
        nextGeneration += 1
        generationsCopied += 1
        lastGeneration = FileIdentity(name: sourceFile, inode: inode)
    }
}
