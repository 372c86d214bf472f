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
    /// Called while the base is copied, with (bytes copied, the base's size).
    public var baseProgress: ((Int, Int) -> Void)?
    /// Set to stop between chunks: the folder is then left without a manifest and its
    /// files are removed.
    public var stop = StopFlag()

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
            throw RestoreError(.invalidRequest, "the AOF folder \(folder) is not empty; refusing to mix files into it")
        }
        do { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw RestoreError(.destination, "cannot create the AOF folder \(folder): \(error.localizedDescription)")
        }
        let baseName = "\(appendFilename).1.base.\(plan.generation.format.rawValue)"
        let incrName = "\(appendFilename).1.incr.aof"
        let stop = self.stop, baseProgress = self.baseProgress, baseSize = plan.generation.size
        try plan.copyBase(to: folder + "/" + baseName) { copied in
            baseProgress?(copied, baseSize)
            return !stop.isSet
        }

        let cursor = ReplayCursor(plan)
        var failure: RestoreError?
        do {
            // Every chunk is checked against its sha256 on the way in; a digest of the
            // output would go unused.
            try DurableFile.writeUnhashed(to: folder + "/" + incrName) { sink throws(DurableFile.WriteError) in
                failure = try withUnsafeMutablePointer(to: &sink) { pointer throws(DurableFile.WriteError) in
                    try Self.writeIncr(cursor, to: pointer, stop: stop, planned: plan.plannedBytes, progress: progress)
                }
            }
        } catch {
            throw RestoreError(.destination, "\(error)", progress: cursor.outcome, underlying: error)
        }
        if let failure {
            // Nothing half-written: without its manifest the folder would not load anyway.
            try? fm.removeItem(atPath: folder + "/" + incrName)
            try? fm.removeItem(atPath: folder + "/" + baseName)
            throw failure
        }
        let manifest = AOFManifest(files: [
            .init(name: baseName, seq: 1, type: .base),
            .init(name: incrName, seq: 1, type: .incr),
        ])
        do {
            try DurableFile.write(Array(manifest.render().utf8), to: folder + "/" + AOFManifest.fileName(appendFilename: appendFilename))
        } catch {
            throw RestoreError(.destination, "\(error)", progress: cursor.outcome, underlying: error)
        }
        var outcome = cursor.outcome
        let elapsed = ContinuousClock.now - clock
        outcome.duration = elapsed.inSeconds
        return outcome
    }

    /// Writes the cursor's entries to the sink: whole chunks as they are when the cursor
    /// allows it, the rest entry by entry through a 1 MB staging buffer. Returns the
    /// archive problem that stopped it, if any (the file is then discarded).
    static func writeIncr(_ cursor: ReplayCursor, to sink: UnsafeMutablePointer<DurableFile.Sink>, stop: StopFlag,
                          planned: Int, progress: ((Int, Int) -> Void)?) throws(DurableFile.WriteError) -> RestoreError? {
        var staging = ByteBufferAllocator().buffer(capacity: 1 << 20)
        var sinceProgress = 0
        var writeFailure: DurableFile.WriteError?
        // Chunks wholly before the cut are copied as they are: checked against their
        // sha256 by the cursor's prefetcher, no parsing. (The pointer is used only while
        // this function runs.)
        cursor.wholeChunkCopier = { chunk, bytes throws(RestoreError) -> Bool in
            if stop.isSet { throw RestoreError(.invalidRequest, "interrupted: the AOF folder was not finished and is removed") }
            guard !Self.mayHoldMulti(bytes) else { return false }
            do throws(DurableFile.WriteError) {
                if staging.readableBytes > 0 { try Self.append(staging, to: &sink.pointee); staging.clear() }
                try Self.append(bytes, to: &sink.pointee)
            } catch {
                writeFailure = error
                throw RestoreError(.destination, "\(error)", underlying: error)
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
                    if sinceProgress >= 16 << 20 {
                        progress?(cursor.bytesRead, planned)
                        sinceProgress = 0
                        if stop.isSet { return RestoreError(.invalidRequest, "interrupted: the AOF folder was not finished and is removed", progress: cursor.outcome) }
                    }
                }
            }
        } catch let error as RestoreError {
            if let writeFailure { throw writeFailure }
            return error
        } catch let error as DurableFile.WriteError {
            throw error
        } catch {
            return RestoreError(.destination, "cannot write the AOF folder: \(error)", underlying: error)
        }
        try Self.append(staging, to: &sink.pointee)
        return nil
    }

    /// False only when the bytes cannot hold a MULTI command (`$5\r\nMULTI\r\n`, any
    /// case): such a chunk opens no transaction and can be copied whole.
    static func mayHoldMulti(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { mayHoldMulti($0) }
    }

    static func mayHoldMulti(_ bytes: UnsafeRawBufferPointer) -> Bool {
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
