import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Appends records to a folder archive's `index.jsonl`: each batch in one `write(2)`,
/// fsync'd before ``append(_:)`` returns. The single-writer lock is an exclusive `flock`
/// on `archive.json`, which is written once and never replaced, so the lock still holds
/// after ``replaceAll(with:)`` swaps the index file.
final class LocalIndexWriter: ArchiveIndexWriting, @unchecked Sendable {
    // @unchecked: used by one thread at a time (the collector's, or one prune or mark).
    let local: LocalArchiveStore
    var store: any ArchiveStore { local }
    private var lockDescriptor: Int32 = -1
    private var indexDescriptor: Int32 = -1

    /// Locks the archive (creating it from `descriptor` when the folder holds none) and
    /// cuts a torn last line off the index. Refuses a folder that holds something other
    /// than an archive, and an archive whose index is gone while its objects remain:
    /// writing there would overwrite what is there.
    init(store: LocalArchiveStore, creating descriptor: ArchiveDescriptor?) throws(ArchiveError) {
        self.local = store
        let root = store.root
        let fm = FileManager.default
        if !fm.fileExists(atPath: store.descriptorPath) {
            guard let descriptor else {
                throw ArchiveError(.notAnArchive, "\(root) is not a redkeep archive: \(store.descriptorPath) is missing", object: store.descriptorPath)
            }
            let present = (try? fm.contentsOfDirectory(atPath: root)) ?? []
            guard present.isEmpty else {
                let shown = present.sorted().prefix(5).joined(separator: ", ") + (present.count > 5 ? ", ..." : "")
                throw ArchiveError(.notAnArchive, "\(root) is not empty and holds no archive (no archive.json; it holds \(present.count) entries: \(shown)): refusing to write an archive into it; name an empty or new folder", object: root)
            }
            do {
                try fm.createDirectory(atPath: root, withIntermediateDirectories: true,
                                       attributes: [.posixPermissions: Int(LocalArchiveStore.folderMode)])
                // An empty folder made beforehand keeps its mode otherwise (0755 by the
                // usual umask): the archive holds the whole data set, so owner only.
                guard chmod(root, LocalArchiveStore.folderMode) == 0 else { throw LocalArchiveStore.ioError("cannot make owner-only (0700)", root) }
                let data = try ArchiveIndex.encoder.encode(descriptor) + Data("\n".utf8)
                try DurableFile.write(Array(data), to: store.descriptorPath, mode: LocalArchiveStore.fileMode)
            } catch {
                throw ArchiveError(.io, "cannot create the archive \(root): \(error)", object: root)
            }
        }
        lockDescriptor = open(store.descriptorPath, O_RDONLY | O_CLOEXEC)
        guard lockDescriptor >= 0 else { throw LocalArchiveStore.ioError("cannot open", store.descriptorPath) }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(lockDescriptor)
            throw ArchiveError(.locked, "the archive \(root) is in use by another collector (or an archive prune or mark: it holds the lock on \(store.descriptorPath))", object: root)
        }
        if !fm.fileExists(atPath: store.indexPath) {
            let objects = try store.list(prefix: "").filter { $0 != ArchiveLayout.descriptorKey }
            guard objects.isEmpty else {
                Glibc.close(lockDescriptor)
                throw ArchiveError(.damaged, "the archive \(root) has lost its index (\(store.indexPath) is missing) but holds \(objects.count) objects (\(objects.sorted().prefix(3).joined(separator: ", "))...): refusing to write into it; move it aside and start a new archive", object: store.indexPath)
            }
        }
        try openIndex()
        try cutTornTail()
    }

    deinit { close() }

    func close() {
        if indexDescriptor >= 0 { Glibc.close(indexDescriptor); indexDescriptor = -1 }
        if lockDescriptor >= 0 { Glibc.close(lockDescriptor); lockDescriptor = -1 }
    }

    private func openIndex() throws(ArchiveError) {
        if indexDescriptor >= 0 { Glibc.close(indexDescriptor) }
        indexDescriptor = open(local.indexPath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, LocalArchiveStore.fileMode)
        guard indexDescriptor >= 0 else { throw LocalArchiveStore.ioError("cannot open", local.indexPath) }
    }

    func append(_ records: [ArchiveRecord]) throws(ArchiveError) {
        guard lockDescriptor >= 0 else { throw ArchiveError(.invalidRequest, "the index writer of \(local.root) is closed") }
        let text = try Self.lines(records, for: local.indexPath)
        let fd = indexDescriptor
        var failure: Int32 = 0
        let before = lseek(fd, 0, SEEK_END)
        let ok = text.withUnsafeBytes { DurableFile.Sink.writeAll(fd, $0, &failure) }
        guard ok else {
            // A short write (disk full) would leave half a line in the middle of the index
            // once a later append succeeds: cut it off now.
            if before >= 0 { _ = ftruncate(fd, before) }
            throw ArchiveError(.io, "cannot append to \(local.indexPath): \(String(cString: strerror(failure)))", object: local.indexPath)
        }
        guard fsync(fd) == 0 else { throw LocalArchiveStore.ioError("cannot fsync", local.indexPath) }
    }

    func replaceAll(with records: [ArchiveRecord]) throws(ArchiveError) {
        let text = try Self.lines(records, for: local.indexPath)
        do { try DurableFile.write(text, to: local.indexPath, mode: LocalArchiveStore.fileMode) } catch {
            throw ArchiveError(.io, "cannot rewrite \(local.indexPath): \(error)", object: local.indexPath, underlying: error)
        }
        try openIndex()
    }

    /// Records as JSON lines, each ending in a newline.
    static func lines(_ records: [ArchiveRecord], for name: String) throws(ArchiveError) -> [UInt8] {
        var text: [UInt8] = []
        for record in records {
            do { text += try ArchiveIndex.encoder.encode(record) } catch {
                throw ArchiveError(.invalidRequest, "cannot encode a record for \(name): \(error)")
            }
            text.append(UInt8(ascii: "\n"))
        }
        return text
    }

    /// Removes a last line without its newline (a crash mid-append), so the next record
    /// starts on a line of its own.
    private func cutTornTail() throws(ArchiveError) {
        let fd = indexDescriptor
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return }
        var last: UInt8 = 0
        guard pread(fd, &last, 1, size - 1) == 1, last != UInt8(ascii: "\n") else { return }
        var position = size - 1
        var byte: UInt8 = 0
        while position > 0 {
            guard pread(fd, &byte, 1, position - 1) == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            position -= 1
        }
        guard ftruncate(fd, position) == 0, fsync(fd) == 0 else {
            throw LocalArchiveStore.ioError("cannot cut the torn last line of", local.indexPath)
        }
    }
}
