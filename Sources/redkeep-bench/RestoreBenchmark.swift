import ArgumentParser
import Foundation
import AOF
import NIOCore
import Operations
import RESP
import RedisClient

/// Point-in-time restore: a 1,000,000-command archive replayed `--into` a local server
/// against `redis-cli --pipe` sending the same commands (same server, flushed before each
/// run, alternating), `--write-aof` against copying the archive's files twice with `cp`,
/// and the peak memory of the whole benchmark process (VmHWM).
struct RestoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "replay-until --into vs redis-cli --pipe (goal >= 1.0), --write-aof vs cp twice, peak memory (< 100 MB).")

    @Option(help: "Commands in the archive.") var commands = 1_000_000
    @Option(help: "Rounds; medians are reported.") var rounds = 3
    @Option(help: "Commands in flight (replay-until --window).") var window = 50_000
    @Option(help: "Pipelines the window is split into.") var depth = 4

    mutating func run() async throws {
        guard let cli = ExternalCommand.find("redis-cli") else { throw ValidationError("the restore benchmark needs redis-cli (apt-get install redis-tools)") }
        let work = NSTemporaryDirectory() + "redkeep-bench-restore-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let archive = work + "/archive"
        let flat = work + "/commands.resp"
        let archived = try Self.buildArchive(archive, flat: flat, commands: commands)
        let lab = try Lab()
        do {
            let server = try await lab.start("restore-bench", LocalServerOptions(config: [("save", "")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest)
            print("Restore: \(grouped(Double(commands))) SETs archived (\(archived / 1_000_000) MB in 4 MB chunks with #TS), \(lab.binary), window \(window) in \(depth) pipelines, \(rounds) rounds (median)")
            // Where the time goes: reading alone (sha256 of every chunk, then every entry).
            var clock = ContinuousClock.now
            for chunk in plan.streams.flatMap(\.chunks) { _ = try DurableFile.sha256(ofFile: archive + "/" + chunk.path) }
            let hashing = (ContinuousClock.now - clock).inSeconds
            clock = ContinuousClock.now
            var entries = 0
            for chunk in plan.streams.flatMap(\.chunks) {
                let reader = try AOFFileReader(path: archive + "/" + chunk.path)
                while try reader.next() != nil { entries += 1 }
            }
            let scanning = (ContinuousClock.now - clock).inSeconds
            print("  scanning alone (AOFFileReader over every chunk): \(fixed(scanning))s for \(entries) entries")
            clock = ContinuousClock.now
            let walk = ReplayCursor(plan)
            while try walk.next() != nil {}
            let reading = (ContinuousClock.now - clock).inSeconds
            print("  reading the archive alone: sha256 of every chunk \(fixed(hashing))s; sha256 + every entry through the cursor \(fixed(reading))s")
            var ours: [Double] = [], reference: [Double] = []
            var ourCPU: [Double] = [], referenceCPU: [Double] = []
            for round in 0..<rounds {
                for which in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                    _ = try await c.send(["FLUSHALL"])
                    let start = ContinuousClock.now
                    let cpuBefore = Self.cpuSeconds(RUSAGE_SELF), childrenBefore = Self.cpuSeconds(RUSAGE_CHILDREN)
                    if which == 0 {
                        var replay = ConnectionReplay(plan: plan, target: c)
                        replay.window = window
                        replay.batchesInFlight = depth
                        let outcome = try await replay.run()
                        guard outcome.commands == commands else { throw ValidationError("replay applied \(outcome.commands) commands, not \(commands)") }
                        ours.append((ContinuousClock.now - start).inSeconds)
                        ourCPU.append(Self.cpuSeconds(RUSAGE_SELF) - cpuBefore)
                    } else {
                        let result = try await ExternalCommand.run("/bin/sh", ["-c", "\(cli) -p \(server.port) --pipe < \(flat)"])
                        guard result.succeeded else { throw ValidationError("redis-cli --pipe failed: \(result.output.prefix(300))") }
                        reference.append((ContinuousClock.now - start).inSeconds)
                        referenceCPU.append(Self.cpuSeconds(RUSAGE_CHILDREN) - childrenBefore)
                    }
                    let keys = try await c.send(["DBSIZE"]).int ?? 0
                    guard keys >= min(commands, 100_000) else { throw ValidationError("the server holds \(keys) keys after a run") }
                }
            }
            let rate = Double(commands) / median(ours), referenceRate = Double(commands) / median(reference)
            let ratio = rate / referenceRate
            print("  replay-until --into      redkeep \(grouped(rate)) cmd/s (\(fixed(median(ours)))s)   redis-cli --pipe \(grouped(referenceRate)) cmd/s (\(fixed(median(reference)))s)   ratio \(fixed(ratio))  \(verdict(ratio, goal: 1.0))")
            print("      rounds: redkeep \(ours.map { fixed($0) }.joined(separator: " ")) s; redis-cli --pipe \(reference.map { fixed($0) }.joined(separator: " ")) s")
            print("      client CPU (user+sys): redkeep \(fixed(median(ourCPU)))s, redis-cli \(fixed(median(referenceCPU)))s")
            await c.close()

            var writes: [Double] = [], copies: [Double] = [], synced: [Double] = []
            for round in 0..<rounds {
                let out = work + "/aof-\(round)"
                var start = ContinuousClock.now
                let outcome = try AOFFolderWriter(plan: plan, folder: out).run()
                guard outcome.commands == commands else { throw ValidationError("--write-aof wrote \(outcome.commands) commands") }
                writes.append((ContinuousClock.now - start).inSeconds)
                try FileManager.default.removeItem(atPath: out)
                start = ContinuousClock.now
                for copy in 1...2 {
                    let result = try await ExternalCommand.run("/bin/cp", ["-r", archive, work + "/copy-\(copy)"])
                    guard result.succeeded else { throw ValidationError("cp failed: \(result.output)") }
                }
                copies.append((ContinuousClock.now - start).inSeconds)
                for copy in 1...2 { try FileManager.default.removeItem(atPath: work + "/copy-\(copy)") }
                // The same copies made durable (fsync of every file), as --write-aof makes its files.
                start = ContinuousClock.now
                let durable = try await ExternalCommand.run("/bin/sh", ["-c", "cp -r \(archive) \(work)/copy-1 && cp -r \(archive) \(work)/copy-2 && find \(work)/copy-1 \(work)/copy-2 -type f -exec sync {} +"])
                guard durable.succeeded else { throw ValidationError("cp + sync failed: \(durable.output)") }
                synced.append((ContinuousClock.now - start).inSeconds)
                for copy in 1...2 { try FileManager.default.removeItem(atPath: work + "/copy-\(copy)") }
            }
            let writeRatio = median(copies) / median(writes)
            print("  replay-until --write-aof redkeep \(fixed(median(writes)))s   cp -r twice \(fixed(median(copies)))s   ratio \(fixed(writeRatio))  \(verdict(writeRatio, goal: 1.0))")
            let syncedRatio = median(synced) / median(writes)
            print("  replay-until --write-aof redkeep \(fixed(median(writes)))s   cp -r twice + fsync \(fixed(median(synced)))s   ratio \(fixed(syncedRatio))  \(verdict(syncedRatio, goal: 1.0))")
            print("      rounds: redkeep \(writes.map { fixed($0) }.joined(separator: " ")) s; cp twice \(copies.map { fixed($0) }.joined(separator: " ")) s; cp twice + fsync \(synced.map { fixed($0) }.joined(separator: " ")) s")
            let peak = Self.peakMemoryMB()
            print("  peak memory of the whole benchmark process (VmHWM) \(fixed(peak)) MB  \(peak < 100 ? "meets goal < 100 MB" : "ABOVE goal < 100 MB")")
            await lab.shutdown()
        } catch {
            await lab.shutdown()
            throw error
        }
    }


    /// Writes `commands` SETs over 100,000 keys as an archive (an AOF base with one command,
    /// one stream in 4 MB chunks, a #TS line every 10,000 commands) and as one flat file
    /// for redis-cli --pipe. Returns the archived bytes. Streams to disk: memory stays flat.
    /// `base` replaces the one-command AOF base (the RDB restore benchmark's RDB), and
    /// `flatPrefix` goes first in the flat file (that base as RESTORE commands).
    static func buildArchive(_ root: String, flat: String, commands: Int,
                             base rdb: [UInt8]? = nil, flatPrefix: [UInt8] = []) throws -> Int {
        let store = LocalArchiveStore(root: root)
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: Date().timeIntervalSince1970, source: "benchmark"))
        let now = Date().timeIntervalSince1970
        let format: BaseFormat = rdb == nil ? .aof : .rdb
        let base = rdb ?? Array("*3\r\n$3\r\nSET\r\n$4\r\nbase\r\n$1\r\n1\r\n".utf8)
        let baseDigest = try store.write(ArchiveLayout.basePath(gen: 1, format: format), bytes: base).sha256
        try writer.append(.stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: now - 100, recordedAt: now)))
        try writer.append(.generation(.init(gen: 1, sourceFile: "appendonly.aof.1.base.\(format.rawValue)", sourceSeq: 1, format: format,
                                            path: ArchiveLayout.basePath(gen: 1, format: format), size: base.count, sha256: baseDigest,
                                            firstStream: 1, asOf: now - 100, recordedAt: now)))
        guard let flatFile = FileHandle(forWritingAtPath: flat) ?? (FileManager.default.createFile(atPath: flat, contents: nil) ? FileHandle(forWritingAtPath: flat) : nil) else {
            throw ValidationError("cannot write \(flat)")
        }
        defer { try? flatFile.close() }
        flatFile.write(Data(flatPrefix))
        var chunk: [UInt8] = []
        var offset = 0, inChunk = 0
        var first: Int64?, last: Int64?
        let start = Int64(now) - 90
        func flushChunk() throws {
            guard !chunk.isEmpty else { return }
            let path = ArchiveLayout.chunkPath(stream: 1, offset: offset)
            let digest = try store.write(path, bytes: chunk).sha256
            try writer.append(.chunk(.init(stream: 1, offset: offset, length: chunk.count, sha256: digest, path: path, commands: inChunk,
                                           firstTimestamp: first, lastTimestamp: last, copiedAt: now)))
            offset += chunk.count
            chunk.removeAll(keepingCapacity: true)
            inChunk = 0; first = nil; last = nil
        }
        var flatBuffer: [UInt8] = []
        for i in 0..<commands {
            if i % 10_000 == 0 {
                let ts = start + Int64(i / 10_000) % 80
                chunk += Array("#TS:\(ts)\r\n".utf8)
                first = first ?? ts; last = ts
            }
            let key = "key:\(i % 100_000)", value = "value-\(i)"
            let command = Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n".utf8)
            chunk += command
            flatBuffer += command
            inChunk += 1
            if chunk.count >= 4 << 20 { try flushChunk() }
            if flatBuffer.count >= 4 << 20 { flatFile.write(Data(flatBuffer)); flatBuffer.removeAll(keepingCapacity: true) }
        }
        try flushChunk()
        flatFile.write(Data(flatBuffer))
        try writer.append(.streamEnd(.init(stream: 1, size: offset, at: now)))
        return offset
    }

    /// User + system CPU seconds of this process or of its waited-for children.
    static func cpuSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// VmHWM of this process, in MB.
    static func peakMemoryMB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? -1
            return kb / 1024
        }
        return -1
    }
}
