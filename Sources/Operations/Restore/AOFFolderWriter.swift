import AOF
import Crypto
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a plan as a Redis 7 multi-part AOF folder that redis-server loads natively: the
/// base copied as `appendonly.aof.1.base.rdb` (or `.base.aof`), every incr entry up to the
/// cut (annotations included, bytes as archived) in `appendonly.aof.1.incr.aof`, and the
/// manifest. Each file is written durably (temporary name, fsync, rename); the manifest
/// comes last, so a folder without one was never finished.
public struct AOFFolderWriter {
    /// The plan.
    public let plan: RestorePlan
    /// The AOF folder to create (Redis's `appenddirname` inside a server's `dir`).
    public let folder: String
    /// The `appendfilename` the server uses.
    public var appendFilename = "appendonly.aof"
    /// Called now and then with (bytes read, bytes planned).
    public var progress: ((Int, Int) -> Void)?

    /// Creates a writer.
    public init(plan: RestorePlan, folder: String) {
        self.plan = plan
        self.folder = folder
    }

    /// Writes the folder. It must not exist or be empty.
    public func run() throws(RestoreError) -> ReplayOutcome {
        let clock = ContinuousClock.now
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: folder), !existing.isEmpty {
            throw RestoreError("the AOF folder \(folder) is not empty; refusing to mix files into it")
        }
        do { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw RestoreError("cannot create the AOF folder \(folder): \(error.localizedDescription)")
        }
        let baseName = "\(appendFilename).1.base.\(plan.generation.format == "aof" ? "aof" : "rdb")"
        let incrName = "\(appendFilename).1.incr.aof"
        try copyBase(to: folder + "/" + baseName)

        let cursor = ReplayCursor(plan)
        var failure: RestoreError?
        let layout = plan.index.layout
        do {
            // Every chunk is checked against its sha256 on the way in; a digest of the
            // output would go unused.
            try DurableFile.writeUnhashed(to: folder + "/" + incrName) { sink throws(DurableFile.WriteError) in
                failure = try withUnsafeMutablePointer(to: &sink) { pointer throws(DurableFile.WriteError) in
                    try Self.writeIncr(cursor, to: pointer, layout: layout, planned: plan.plannedBytes, progress: progress)
                }
            }
        } catch {
            throw RestoreError("\(error)", progress: cursor.outcome)
        }
        if let failure {
            try? fm.removeItem(atPath: folder + "/" + incrName)
            throw failure
        }
        let manifest = AOFManifest(files: [
            .init(name: baseName, seq: 1, type: .base),
            .init(name: incrName, seq: 1, type: .incr),
        ])
        do {
            try DurableFile.write(Array(manifest.render().utf8), to: folder + "/" + AOFManifest.fileName(appendFilename: appendFilename))
        } catch {
            throw RestoreError("\(error)", progress: cursor.outcome)
        }
        var outcome = cursor.outcome
        let elapsed = ContinuousClock.now - clock
        outcome.duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return outcome
    }

    /// Copies the base, checking its sha256 on the way (one read).
    private func copyBase(to path: String) throws(RestoreError) {
        let source = plan.basePath
        guard FileManager.default.fileExists(atPath: source) else {
            throw RestoreError("the base of generation \(plan.generation.gen) is missing: \(source)")
        }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RestoreError("cannot open the base \(source): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var readFailure: String?
        let digest: String
        do {
            digest = try DurableFile.write(to: path) { sink throws(DurableFile.WriteError) in
                var block = [UInt8](repeating: 0, count: 1 << 20)
                while true {
                    let got = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if got < 0 && errno == EINTR { continue }
                    if got < 0 { readFailure = String(cString: strerror(errno)); return }
                    if got == 0 { return }
                    try sink.append(block[0..<got])
                }
            }
        } catch {
            throw RestoreError("\(error)")
        }
        if let readFailure {
            try? FileManager.default.removeItem(atPath: path)
            throw RestoreError("cannot read the base \(source): \(readFailure)")
        }
        guard digest == plan.generation.sha256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw RestoreError("the base \(source) does not match its sha256 (index \(plan.generation.sha256.prefix(12))..., file \(digest.prefix(12))...); nothing written")
        }
    }

    /// Writes the cursor's entries to the sink: whole chunks as they are when the cursor
    /// allows it, the rest entry by entry through a 1 MB staging buffer. Returns the
    /// archive problem that stopped it, if any (the file is then discarded).
    static func writeIncr(_ cursor: ReplayCursor, to sink: UnsafeMutablePointer<DurableFile.Sink>, layout: ArchiveLayout,
                          planned: Int, progress: ((Int, Int) -> Void)?) throws(DurableFile.WriteError) -> RestoreError? {
        var staging = ByteBufferAllocator().buffer(capacity: 1 << 20)
        var sinceProgress = 0
        var writeFailure: DurableFile.WriteError?
        // Chunks wholly before the cut are copied as they are: one read, checked against
        // their sha256, no parsing; the next one is read and checked meanwhile on another
        // thread. (The pointer is used only while this function runs.)
        let prefetcher = ChunkPrefetcher(chunks: cursor.plan.streams.flatMap(\.chunks), layout: layout)
        defer { prefetcher.finish() }
        cursor.wholeChunkCopier = { chunk throws(RestoreError) -> Bool in
            let bytes = try prefetcher.take(chunk)
            defer { bytes.deallocate() }
            guard !Self.mayHoldMulti(bytes) else { return false }
            do throws(DurableFile.WriteError) {
                if staging.readableBytes > 0 { try Self.append(staging, to: &sink.pointee); staging.clear() }
                try sink.pointee.append(raw: UnsafeRawBufferPointer(bytes))
            } catch {
                writeFailure = error
                throw RestoreError("\(error)")
            }
            progress?(cursor.bytesRead + chunk.length, planned)
            return true
        }
        defer { cursor.wholeChunkCopier = nil }
        do {
            while let e = try cursor.next() {
                var bytes = e.entry.bytes
                staging.writeBuffer(&bytes)
                if staging.readableBytes >= 1 << 20 {
                    try Self.append(staging, to: &sink.pointee)
                    sinceProgress += staging.readableBytes
                    staging.clear()
                    if sinceProgress >= 16 << 20 { progress?(cursor.bytesRead, planned); sinceProgress = 0 }
                }
            }
        } catch let error as RestoreError {
            if let writeFailure { throw writeFailure }
            return error
        } catch let error as DurableFile.WriteError {
            throw error
        } catch {
            return RestoreError("\(error)")
        }
        try Self.append(staging, to: &sink.pointee)
        return nil
    }

    /// A chunk's bytes, read once and checked against its size and sha256. The caller
    /// deallocates them.
    static func readChunk(_ chunk: ArchiveRecord.Chunk, layout: ArchiveLayout) throws(RestoreError) -> UnsafeMutableRawBufferPointer {
        let path = layout.absolute(chunk.path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RestoreError("chunk \(path) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end)) cannot be opened: \(String(cString: strerror(errno))); nothing past it applied") }
        defer { close(fd) }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(chunk.length, 1), alignment: 16)
        var got = 0
        while got < chunk.length {
            let n = pread(fd, bytes.baseAddress! + got, chunk.length - got, off_t(got))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            got += n
        }
        var extra: UInt8 = 0
        let more = pread(fd, &extra, 1, off_t(chunk.length))
        guard got == chunk.length, more == 0 else {
            bytes.deallocate()
            throw RestoreError("chunk \(path) does not have the \(chunk.length) bytes the index says; nothing past stream \(chunk.stream) byte \(chunk.offset) applied")
        }
        let digest = DurableFile.hex(SHA256.hash(data: UnsafeRawBufferPointer(start: bytes.baseAddress, count: chunk.length)))
        guard digest == chunk.sha256 else {
            bytes.deallocate()
            throw RestoreError("chunk \(path) does not match its sha256 (index \(chunk.sha256.prefix(12))..., file \(digest.prefix(12))...); nothing past stream \(chunk.stream) byte \(chunk.offset) applied")
        }
        return UnsafeMutableRawBufferPointer(start: bytes.baseAddress, count: chunk.length)
    }

    /// False only when the bytes cannot hold a MULTI command (`$5\r\nMULTI\r\n`, any
    /// case): such a chunk opens no transaction and can be copied whole.
    static func mayHoldMulti(_ bytes: UnsafeMutableRawBufferPointer) -> Bool {
        let pattern: [UInt8] = Array("$5\r\nmulti\r\n".utf8)
        guard bytes.count >= pattern.count else { return false }
        var i = 0
        let last = bytes.count - pattern.count
        while i <= last {
            // Scan for the '$' fast, then compare the rest without regard to case.
            guard let dollar = memchr(bytes.baseAddress! + i, 0x24, last - i + 1) else { return false }
            i = bytes.baseAddress!.distance(to: dollar)
            var matched = true
            for k in 1..<pattern.count {
                var b = bytes[i + k]
                if b >= 0x41 && b <= 0x5A { b += 0x20 }
                if b != pattern[k] { matched = false; break }
            }
            if matched { return true }
            i += 1
        }
        return false
    }

    /// Appends a buffer's readable bytes without copying them.
    static func append(_ buffer: ByteBuffer, to sink: inout DurableFile.Sink) throws(DurableFile.WriteError) {
        var failure: DurableFile.WriteError?
        buffer.withUnsafeReadableBytes { raw in
            do throws(DurableFile.WriteError) { try sink.append(raw: raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
