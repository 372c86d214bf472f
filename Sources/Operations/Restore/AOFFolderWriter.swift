import AOF
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
        do {
            try DurableFile.write(to: folder + "/" + incrName) { sink throws(DurableFile.WriteError) in
                var staging = ByteBufferAllocator().buffer(capacity: 1 << 20)
                var sinceProgress = 0
                do {
                    while let e = try cursor.next() {
                        var bytes = e.entry.bytes
                        staging.writeBuffer(&bytes)
                        if staging.readableBytes >= 1 << 20 {
                            try Self.append(staging, to: &sink)
                            sinceProgress += staging.readableBytes
                            staging.clear()
                            if sinceProgress >= 16 << 20 { progress?(cursor.bytesRead, plan.plannedBytes); sinceProgress = 0 }
                        }
                    }
                } catch let error as RestoreError {
                    failure = error
                    return
                } catch let error as DurableFile.WriteError {
                    throw error
                } catch {
                    failure = RestoreError("\(error)")
                    return
                }
                try Self.append(staging, to: &sink)
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

    /// Appends a buffer's readable bytes without copying them.
    static func append(_ buffer: ByteBuffer, to sink: inout DurableFile.Sink) throws(DurableFile.WriteError) {
        var failure: DurableFile.WriteError?
        buffer.withUnsafeReadableBytes { raw in
            do throws(DurableFile.WriteError) { try sink.append(raw: raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
