import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The roll-forward collector against real servers: the archive must equal the AOF files
/// byte for byte through rewrites, restarts of the collector and of Redis.
@Suite(.serialized) struct CollectorTests {
    static func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "redkeep-archive-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A server whose replaced AOF files stay on disk (for the byte comparison), with
    /// #TS annotations and no automatic rewrites.
    static func serverOptions() -> LocalServerOptions {
        LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes"), ("auto-aof-rewrite-percentage", "0")])
    }

    /// Writes until `stop` is set: SET/INCR/APPEND, a MULTI block, and now and then a
    /// value larger than any test's chunk size.
    final class Load: Sendable {
        let stop = Flag()
        let task: Task<Int, any Error>

        init(_ configuration: RedisConnectionConfiguration) {
            let stop = self.stop
            task = Task.detached {
                let connection = try await RedisConnection.connect(configuration)
                defer { Task { await connection.close() } }
                var round = 0
                while !stop.isSet {
                    round += 1
                    var commands: [RESPCommand] = []
                    for i in 0..<20 {
                        commands.append(RESPCommand("SET", "k\(i % 97)", "value-\(round)-\(i)"))
                        commands.append(RESPCommand("INCR", "counter"))
                    }
                    commands += [RESPCommand("MULTI"), RESPCommand("INCR", "tx"), RESPCommand("APPEND", "log", "x"), RESPCommand("EXEC")]
                    if round % 7 == 0 { commands.append(RESPCommand("SET", "big", String(repeating: "b", count: 5000 + round))) }
                    _ = try await connection.pipeline(commands)
                    try await Task.sleep(for: .milliseconds(10))
                }
                return round
            }
        }

        func finish() async throws -> Int {
            stop.set()
            return try await task.value
        }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    /// BGREWRITEAOF and wait until neither a rewrite runs nor one is scheduled.
    static func rewrite(_ connection: RedisConnection) async throws {
        _ = try await connection.send(RESPCommand("BGREWRITEAOF"))
        for _ in 0..<600 {
            try await Task.sleep(for: .milliseconds(50))
            let info = try await connection.info("persistence")
            if info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { return }
        }
        throw CollectorError("BGREWRITEAOF did not finish within 30 s")
    }

    static func aofDirectory(_ server: LocalServer) -> String { server.directory + "/appendonlydir" }

    @Test func archiveEqualsTheAOFThroughFiveRewritesUnderLoad() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", Self.serverOptions())
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let options = CollectorOptions(archive: archive, chunkSize: 2048, pause: .zero, interval: .milliseconds(50), rate: nil)
            let collector = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
            let run = Task.detached { await collector.run() }
            let load = Load(server.connectionConfiguration)
            let control = try await lab.connect("m")
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(300))
                try await Self.rewrite(control)
            }
            try await Task.sleep(for: .milliseconds(300))
            // Enough bytes for hundreds of 2 KB chunks whatever the machine's speed: 300
            // rounds of the load (each INCRs counter 20 times, about 1.5 KB of AOF).
            for _ in 0..<1200 {
                if let done = try await control.send(RESPCommand("GET", "counter")).string.flatMap(Int.init), done >= 6000 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let rounds = try await load.finish()
            #expect(rounds >= 300)
            let mark = try await collector.mark("after-load")
            collector.requestStop()
            await run.value
            let status = collector.status()
            #expect(status.state == .stopped)
            #expect(status.errors == 0, "\(status.lastError ?? "")")
            #expect(status.bytesBehind == 0)

            let summary = try ArchiveVerification.verify(archive: archive, aofDirectory: Self.aofDirectory(server))
            // A base replaced again before a pass saw it is not archived (its streams are): at least
            // several generations, one stream per incr file.
            #expect(summary.generations >= 3)
            #expect(summary.streams >= 6, "one stream per incr file: the first and one per rewrite")
            #expect(summary.chunks >= 200, "only \(summary.chunks) chunks")
            let index = try ArchiveIndex.read(archive)
            #expect(index.marks.map(\.name) == ["after-load"])
            #expect(mark.key == "redkeep:mark:after-load")
            #expect(!index.samples.isEmpty)
            // Every generation's first stream is the incr file opened when its rewrite began:
            // each later generation starts on a later stream.
            let firsts = index.generations.map(\.firstStream)
            #expect(firsts == firsts.sorted() && Set(firsts).count == firsts.count, "\(firsts)")
            // The streams Redis moved away from are ended, at their file's size.
            #expect(index.streamEnds.count >= 4)
            await control.close()
        }
    }

    @Test func restartedCollectorResumesWithoutGapOrDuplicate() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", Self.serverOptions())
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let options = CollectorOptions(archive: archive, chunkSize: 1024, pause: .zero, interval: .milliseconds(50), rate: nil)
            let control = try await lab.connect("m")
            let load = Load(server.connectionConfiguration)
            for round in 0..<3 {
                let collector = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
                let run = Task.detached { await collector.run() }
                try await Task.sleep(for: .milliseconds(200))
                if round == 1 { try await Self.rewrite(control) }
                collector.requestStop()
                await run.value
                // Stopped for a while: the load goes on, and a rewrite happens unseen.
                try await Task.sleep(for: .milliseconds(150))
                if round == 0 { try await Self.rewrite(control) }
            }
            _ = try await load.finish()
            let last = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
            let run = Task.detached { await last.run() }
            try await Task.sleep(for: .milliseconds(200))
            last.requestStop()
            await run.value
            try ArchiveVerification.verify(archive: archive, aofDirectory: Self.aofDirectory(server))
            await control.close()
        }
    }

    @Test func scheduledRewritesRunAndAutoRewriteIsWarnedAbout() async throws {
        try await withLab { lab in
            // Redis's default auto-aof-rewrite-percentage (100): the collector must say so.
            let server = try await lab.start("m", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes")]))
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let options = CollectorOptions(archive: archive, chunkSize: 4096, pause: .zero, interval: .milliseconds(50), rate: nil,
                                           rewriteEvery: .milliseconds(400))
            let collector = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
            #expect(collector.status().warnings.contains { $0.contains("auto-aof-rewrite-percentage is 100") })
            #expect(collector.status().nextRewrite == nil, "not scheduled before run")
            let run = Task.detached { await collector.run() }
            let load = Load(server.connectionConfiguration)
            let control = try await lab.connect("m")
            var rewrites = 0
            for _ in 0..<200 where rewrites < 3 {
                try await Task.sleep(for: .milliseconds(50))
                rewrites = try await control.info("persistence").int("aof_rewrites") ?? 0
            }
            _ = try await load.finish()
            #expect(rewrites >= 3, "the collector asked for no rewrites")
            #expect(collector.status().nextRewrite != nil)
            collector.requestStop()
            await run.value
            #expect(collector.status().rewrites >= 2)
            #expect(collector.status().errors == 0, "\(collector.status().lastError ?? "")")
            let summary = try ArchiveVerification.verify(archive: archive, aofDirectory: Self.aofDirectory(server))
            #expect(summary.streams >= 4)
            await control.close()
        }
    }

    @Test func vanishedAOFFolderIsReportedAndOpenFilesAreStillCopied() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", Self.serverOptions())
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let options = CollectorOptions(archive: archive, chunkSize: 4096, pause: .zero, interval: .milliseconds(50), rate: nil)
            let collector = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
            let run = Task.detached { await collector.run() }
            let control = try await lab.connect("m")
            try await Task.sleep(for: .milliseconds(200))
            // The folder is moved away; Redis keeps appending to its open incr file.
            let folder = Self.aofDirectory(server), moved = server.directory + "/moved"
            #expect(rename(folder, moved) == 0)
            for i in 0..<200 { _ = try await control.send(RESPCommand("SET", "after-\(i)", "v")) }
            try await Task.sleep(for: .milliseconds(300))
            let status = collector.status()
            #expect(status.state == .running)
            #expect(status.lastError?.contains("cannot follow the AOF") == true, "\(status.lastError ?? "no error")")
            #expect(rename(moved, folder) == 0)
            collector.requestStop()
            await run.value
            // Everything written while the folder was gone was copied through the kept descriptor.
            try ArchiveVerification.verify(archive: archive, aofDirectory: folder)
            await control.close()
        }
    }

    @Test func secondCollectorOnTheSameArchiveIsRefused() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", Self.serverOptions())
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            let options = CollectorOptions(archive: archive, interval: .milliseconds(50))
            let first = try await Collector.open(name: "a", source: server.connectionConfiguration, options: options)
            await #expect(throws: CollectorError.self) {
                _ = try await Collector.open(name: "b", source: server.connectionConfiguration, options: options)
            }
            do {
                _ = try await Collector.open(name: "b", source: server.connectionConfiguration, options: options)
            } catch {
                #expect("\(error)".contains("in use by another collector"), "\(error)")
            }
            let run = Task.detached { await first.run() }
            first.requestStop()
            await run.value
        }
    }

    @Test func serverWithoutAOFIsRefusedClearly() async throws {
        try await withLab { lab in
            let server = try await lab.start("plain")
            let archive = try Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: archive) }
            do {
                _ = try await Collector.open(name: "x", source: server.connectionConfiguration, options: CollectorOptions(archive: archive))
                Issue.record("a server without AOF was accepted")
            } catch {
                #expect("\(error)".contains("127.0.0.1:\(server.port) has appendonly no"), "\(error)")
            }
            let server2 = try await lab.start("aof", LocalServerOptions(appendOnly: true))
            do {
                _ = try await Collector.open(name: "y", source: server2.connectionConfiguration,
                                             options: CollectorOptions(archive: archive, aofDirectory: archive + "/nowhere"))
                Issue.record("a missing AOF folder was accepted")
            } catch {
                #expect("\(error)".contains("no append-only file to follow in \(archive)/nowhere"), "\(error)")
            }
        }
    }
}
