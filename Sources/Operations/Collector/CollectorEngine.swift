import AOF
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The collector's file work: following the AOF folder, copying chunks and bases, and
/// appending the index. Everything here is blocking file I/O, so it runs on the
/// collector's own thread (``CollectorThread``), never on the event loops that carry the
/// shell's Redis traffic; nothing else touches it (hence `@unchecked Sendable`).
final class CollectorEngine: @unchecked Sendable {
    /// Which AOF layout is followed.
    enum Mode: Sendable, Equatable {
        /// Redis 7+: a manifest names the base and incr files.
        case multiPart(manifest: String)
        /// Redis <= 6: one file, replaced by each rewrite.
        case singleFile(name: String)

        var label: String {
            switch self {
            case .multiPart: "multi-part"
            case .singleFile: "single-file"
            }
        }
    }

    /// What the collector shows in its status after each step.
    struct Snapshot: Sendable {
        var files: [String]
        var bytesBehind: Int
        var chunks: Int
        var bytesCopied: Int
        var generations: Int
        var lastCopy: Double?
    }

    let store: any ArchiveStore
    let writer: any ArchiveIndexWriting
    let aofDirectory: String
    let mode: Mode
    let chunkSize: Int
    var limiter: RateLimiter

    /// The streams followed now, oldest first; every one but the last has a successor.
    var streams: [FollowedStream] = []
    /// Every file that has a stream number (followed or ended).
    var known: [FileIdentity: Int] = [:]
    /// When each stream was first seen.
    var openedBy: [Int: Double] = [:]
    var lastGeneration: FileIdentity?
    var lastSeq: Int64?
    var nextStream: Int
    var nextGeneration: Int
    /// Counters of this run.
    var chunksCopied = 0
    var bytesCopied = 0
    var generationsCopied = 0
    var lastCopy: Double?

    /// Opens (or creates) the archive and resumes from its index: every stream that had
    /// not ended is reopened and checked (same inode, long enough, and the bytes of its
    /// last archived chunk still match); a stream that cannot be resumed gets a `gap`.
    init(store: any ArchiveStore, aofDirectory: String, appendFilename: String, chunkSize: Int, rate: Int?,
         descriptor: ArchiveDescriptor, now: Double) throws(CollectorError) {
        let fm = FileManager.default
        let manifestName = AOFManifest.fileName(appendFilename: appendFilename)
        if fm.fileExists(atPath: aofDirectory + "/" + manifestName) {
            mode = .multiPart(manifest: manifestName)
        } else if fm.fileExists(atPath: aofDirectory + "/" + appendFilename) {
            mode = .singleFile(name: appendFilename)
        } else {
            var isFolder: ObjCBool = false
            let why = fm.fileExists(atPath: aofDirectory, isDirectory: &isFolder)
                ? "it holds neither \(manifestName) (Redis 7+) nor \(appendFilename) (Redis 6 and older)"
                : "the folder does not exist here"
            throw CollectorError("no append-only file to follow in \(aofDirectory): \(why). The collector reads the AOF files, so it runs on the Redis host (or give the folder with --aof-dir)")
        }
        self.aofDirectory = aofDirectory
        self.chunkSize = max(1, chunkSize)
        self.limiter = RateLimiter(bytesPerSecond: rate)
        self.store = store
        do {
            writer = try store.openIndexWriter(creating: descriptor)
        } catch {
            throw CollectorError(error)
        }
        let index: ArchiveIndex
        do { index = try ArchiveIndex.read(store) } catch { throw CollectorError(error) }
        if let followed = index.descriptor.aofDirectory, followed != aofDirectory {
            throw CollectorError(.invalidRequest, "the archive \(store.location) collects from \(followed) (\(index.descriptor.source)), not \(aofDirectory): use one archive per server")
        }
        nextStream = (index.streams.map(\.stream).max() ?? 0) + 1
        nextGeneration = (index.generations.map(\.gen).max() ?? 0) + 1
        if let g = index.generations.last, let inode = g.sourceInode { lastGeneration = FileIdentity(name: g.sourceFile, inode: inode) }
        let ended = Set(index.streamEnds.map(\.stream))
        for s in index.streams {
            openedBy[s.stream] = s.openedBy
            if let inode = s.sourceInode { known[FileIdentity(name: s.sourceFile, inode: inode)] = s.stream }
            if case .multiPart = mode { lastSeq = max(lastSeq ?? s.sourceSeq, s.sourceSeq) }
        }
        for s in index.streams where !ended.contains(s.stream) {
            try resume(s, index, now: now)
        }
    }

    /// Reopens a stream the previous run followed, or records why it cannot go on.
    private func resume(_ record: ArchiveRecord.Stream, _ index: ArchiveIndex, now: Double) throws(CollectorError) {
        let path = aofDirectory + "/" + record.sourceFile
        let copied = index.copiedBytes(of: record.stream)
        let chunks = index.chunks(of: record.stream)
        let lastProgress = chunks.last?.copiedAt ?? record.openedBy
        func lost(_ why: String) throws(CollectorError) {
            try append(.gap(.init(stream: record.stream, offset: copied, from: lastProgress, to: now,
                                  reason: "\(path) \(why) while the collector was not running; bytes after offset \(copied) could not be copied")))
            try append(.streamEnd(.init(stream: record.stream, size: copied, at: now)))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return try lost("was deleted (\(String(cString: strerror(errno))))") }
        var st = stat()
        fstat(fd, &st)
        let inode = UInt64(st.st_ino)
        if let expected = record.sourceInode, expected != inode {
            close(fd)
            return try lost("was replaced by another file of the same name")
        }
        guard Int(st.st_size) >= copied else {
            close(fd)
            return try lost("is now \(st.st_size) bytes, shorter than the \(copied) already archived")
        }
        if let last = chunks.last(where: { $0.end == copied }), Self.sha256(fd, last.offset..<last.end) != last.sha256 {
            close(fd)
            return try lost("no longer holds the bytes archived at offset \(last.offset)")
        }
        let stream = FollowedStream(number: record.stream, sourceFile: record.sourceFile, path: path, descriptor: fd,
                                    inode: inode, copied: copied, lastProgress: lastProgress)
        stream.sampledSize = index.samples.last { $0.stream == record.stream }?.size
        known[stream.identity] = record.stream
        streams.append(stream)
    }

    /// Appends one record to the index.
    func append(_ record: ArchiveRecord) throws(CollectorError) {
        do { try writer.append(record) } catch { throw CollectorError(error) }
    }

    var snapshot: Snapshot {
        Snapshot(files: streams.map(\.sourceFile), bytesBehind: streams.reduce(0) { $0 + max(0, $1.size - $1.copied) },
                 chunks: chunksCopied, bytesCopied: bytesCopied, generations: generationsCopied, lastCopy: lastCopy)
    }

    /// SHA-256 of a range read through a descriptor (nil when it cannot be read whole).
    static func sha256(_ fd: Int32, _ range: Range<Int>) -> String? {
        var hasher = SHA256Hasher()
        var position = range.lowerBound
        var block = [UInt8](repeating: 0, count: min(1 << 20, max(1, range.count)))
        while position < range.upperBound {
            let want = min(block.count, range.upperBound - position)
            let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            block.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            position += got
        }
        return hasher.finish()
    }
}
