import ArgumentParser
import Foundation
import NIOCore
import Operations
import RDB
import RESP
import RedisClient
#if canImport(Glibc)
import Glibc
#endif

/// Restoring an archive whose base is an RDB, the whole command as a user runs it
/// (`redkeep -c "connect ...; replay-until now --archive A --into t --flush"`), against
/// `redis-cli --pipe` sending the same data: the base's keys as RESTORE commands, then
/// the incr SETs. Same server, alternating, emptied (FLUSHALL, untimed) before each run.
struct RestoreRDBBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore-rdb",
        abstract: "replay-until with an RDB base (the whole redkeep command) vs redis-cli --pipe of RESTOREs + SETs (goal >= 1.0).")

    @Option(help: "Keys in the RDB base.") var keys = 100_000
    @Option(help: "SETs in the incr stream.") var commands = 300_000
    @Option(help: "Rounds; medians are reported.") var rounds = 9
    @Option(help: "Another redkeep binary (a build from before a change) timed in the same rounds.") var baseline: String?
    @Option(help: "Build the archive and redis-cli's input in this folder and keep them (for profiling one command by hand), instead of a temporary folder.") var keep: String?

    mutating func run() async throws {
        guard let cli = ExternalCommand.find("redis-cli") else { throw ValidationError("the benchmark needs redis-cli (apt-get install redis-tools)") }
        let redkeep = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("redkeep").path
        guard FileManager.default.isExecutableFile(atPath: redkeep) else { throw ValidationError("\(redkeep) is missing: build the redkeep product too") }
        let work = keep ?? NSTemporaryDirectory() + "redkeep-bench-restore-rdb-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: work) } }
        let lab = try Lab()
        do {
            // The base: a real server's dump of `keys` SETs.
            let source = try await lab.start("rdb-source", LocalServerOptions(config: [("save", "")]))
            let s = try await RedisConnection.connect(source.connectionConfiguration)
            for start in stride(from: 0, to: keys, by: 10_000) {
                _ = try await s.pipeline((start..<min(keys, start + 10_000)).map { ["SET", .string("base:\($0)"), .string("base-value-\($0)")] })
            }
            _ = try await s.send(["SAVE"])
            await s.close()
            let rdb = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source.directory + "/dump.rdb")))
            try await lab.stop("rdb-source")
            // The same base as RESTORE commands for redis-cli.
            var restores = ByteBuffer()
            let reader = try RDBReader(source: RDBMemorySource(rdb))
            while let entry = try reader.next() {
                guard case .key(let key) = entry else { continue }
                restores.writeRESPCommand(["RESTORE", .bytes(ByteBuffer(bytes: key.key)), "0", .bytes(ByteBuffer(bytes: try DumpPayload.make(for: key))), "REPLACE"])
            }
            let archive = work + "/archive", flat = work + "/restore.resp"
            _ = try RestoreBenchmark.buildArchive(archive, flat: flat, commands: commands, base: rdb, flatPrefix: Array(restores.readableBytesView))

            let server = try await lab.start("restore-rdb-target", LocalServerOptions(config: [("save", "")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let script = "connect t 127.0.0.1:\(server.port); replay-until now --archive \(archive) --into t --flush"
            print("Restore with an RDB base: \(grouped(Double(keys))) keys (\(rdb.count / 1000) kB RDB) + \(grouped(Double(commands))) incr SETs, \(rounds) rounds (median), the whole redkeep command vs redis-cli --pipe")
            if let baseline, !FileManager.default.isExecutableFile(atPath: baseline) { throw ValidationError("--baseline \(baseline) is not an executable") }
            var ours: [Double] = [], reference: [Double] = [], before: [Double] = []
            // CPU (user + system) of each run's processes, less noisy than wall time on a
            // shared machine: redkeep, redis-cli (with its sh), the baseline.
            var cpu: [[Double]] = [[], [], []]
            let tools = baseline == nil ? [0, 1] : [0, 1, 2]
            for round in 0..<rounds {
                for step in tools.indices {
                    let which = tools[(round + step) % tools.count]
                    // An empty server for each (redkeep's --flush then finds nothing to do).
                    _ = try await c.send(["FLUSHALL"])
                    let childCPU = RestoreBenchmark.cpuSeconds(RUSAGE_CHILDREN)
                    defer { cpu[which].append(RestoreBenchmark.cpuSeconds(RUSAGE_CHILDREN) - childCPU) }
                    let start = ContinuousClock.now
                    if which == 0 || which == 2 {
                        let result = try await ExternalCommand.run(which == 0 ? redkeep : baseline!, ["-c", script])
                        guard result.succeeded else { throw ValidationError("redkeep failed: \(result.output.prefix(500))") }
                        if which == 0 { ours.append((ContinuousClock.now - start).inSeconds) } else { before.append((ContinuousClock.now - start).inSeconds) }
                    } else {
                        let result = try await ExternalCommand.run("/bin/sh", ["-c", "\(cli) -p \(server.port) --pipe < \(flat)"])
                        guard result.succeeded else { throw ValidationError("redis-cli --pipe failed: \(result.output.prefix(300))") }
                        reference.append((ContinuousClock.now - start).inSeconds)
                    }
                    let held = try await c.send(["DBSIZE"]).int ?? 0
                    guard held == keys + min(commands, 100_000) else { throw ValidationError("the server holds \(held) keys after a run, not \(keys + min(commands, 100_000))") }
                }
            }
            let ratio = median(reference) / median(ours)
            print("  replay-until (RDB base)  redkeep \(fixed(median(ours)))s   redis-cli --pipe \(fixed(median(reference)))s   ratio \(fixed(ratio))  \(verdict(ratio, goal: 1.0))")
            print("      rounds: redkeep \(ours.map { fixed($0) }.joined(separator: " ")) s; redis-cli --pipe \(reference.map { fixed($0) }.joined(separator: " ")) s")
            print("      client CPU (user+sys, median): redkeep \(fixed(median(cpu[0])))s, redis-cli --pipe \(fixed(median(cpu[1])))s")
            if let baseline {
                print("  baseline \(baseline)  \(fixed(median(before)))s   ratio \(fixed(median(reference) / median(before)))   client CPU \(fixed(median(cpu[2])))s")
                print("      rounds: \(before.map { fixed($0) }.joined(separator: " ")) s")
            }
            await c.close()
            await lab.shutdown()
        } catch {
            await lab.shutdown()
            throw error
        }
    }

}
