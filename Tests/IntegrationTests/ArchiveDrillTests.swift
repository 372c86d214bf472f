import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Restore drills (`archive drill`) against real servers and a real collector: a drill
/// under write load reports equal, a damaged archive reports the keys that differ (or
/// refuses), writes are never left paused, bad requests are refused before any pause.
@Suite(.serialized) struct ArchiveDrillTests {
    /// A live server with #TS annotations, its archive, and a collector archiving it
    /// every 50 ms in a background task.
    struct Protected {
        let server: LocalServer
        let archive: String
        let collector: Collector
        let running: Task<Void, Never>

        static func start(_ lab: Lab) async throws -> Protected {
            let server = try await lab.start("live", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            let archive = try restoreTemporaryFolder("drill-archive", in: lab)
            let options = CollectorOptions(archive: archive, chunkSize: 64 << 10, pause: .zero, interval: .milliseconds(50), rate: nil)
            let collector = try await Collector.open(name: "live", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }
            return Protected(server: server, archive: archive, collector: collector, running: running)
        }

        func stop() async {
            collector.requestStop()
            await running.value
        }

        /// A write goes through: were a 60 s pause still on, it would wait for it and
        /// fail by the connection's 10 s command timeout.
        func expectWritable() async throws {
            var configuration = server.connectionConfiguration
            configuration.commandTimeout = .seconds(10)
            let probe = try await RedisConnection.connect(configuration)
            #expect(try await probe.send(["SET", "probe", "1"]).string == "OK")
            await probe.close()
        }

        func options(_ destination: DrillDestination) throws -> ArchiveDrillOptions {
            var options = ArchiveDrillOptions(archive: try ArchiveStores.open(archive), live: server.connectionConfiguration, destination: destination)
            options.timeout = .seconds(60)
            options.pollInterval = .milliseconds(20)
            return options
        }
    }

    /// Writes until stopped: strings, a counter, a hash, a set, a sorted set, a list,
    /// keys with a TTL, a key in database 1. Counts its pipelines.
    final class Load: Sendable {
        private let stopped = CollectorTests.Flag()
        private let rounds = Counter()
        let task: Task<Void, any Error>

        init(_ configuration: RedisConnectionConfiguration) {
            let stopped = self.stopped, rounds = self.rounds
            task = Task.detached {
                let connection = try await RedisConnection.connect(configuration)
                defer { Task { await connection.close() } }
                var round = 0
                while !stopped.isSet {
                    round += 1
                    var commands: [RESPCommand] = []
                    for i in 0..<10 {
                        commands.append(RESPCommand("SET", "k\((round * 10 + i) % 200)", "v\(round)-\(i)"))
                        commands.append(RESPCommand("INCR", "counter"))
                        commands.append(RESPCommand("HSET", "h", "f\((round + i) % 40)", "\(round)"))
                    }
                    commands += [RESPCommand("SADD", "s", "m\(round % 300)"), RESPCommand("ZADD", "z", "\(round)", "z\(round % 100)"),
                                 RESPCommand("RPUSH", "l", "\(round)"), RESPCommand("SET", "ttl\(round % 20)", "x", "PX", "600000"),
                                 RESPCommand("SELECT", "1"), RESPCommand("INCR", "other-db"), RESPCommand("SELECT", "0")]
                    _ = try await connection.pipeline(commands)
                    rounds.add()
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
        }

        /// Pipelines written so far.
        var count: Int { rounds.value }

        func finish() async throws {
            stopped.set()
            try await task.value
        }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        var value: Int { lock.withLock { n } }
        func add() { lock.withLock { n += 1 } }
    }

    /// Waits (bounded) until the load has written `more` pipelines beyond `from`.
    static func waitForLoad(_ load: Load, beyond from: Int, more: Int = 20) async throws {
        for _ in 0..<3000 where load.count < from + more { try await Task.sleep(for: .milliseconds(10)) }
        #expect(load.count >= from + more, "the load kept writing")
    }

    @Test func underWriteLoadTheRestoreEqualsTheLiveDataAtTheMark() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            let load = Load(live.server.connectionConfiguration)
            try await Self.waitForLoad(load, beyond: 0, more: 50)
            let report = try await ArchiveDrill.run(try live.options(.localServer(name: "scratch", lab: lab, keep: false)))
            let afterDrill = load.count
            // Writes resumed after the pause.
            try await Self.waitForLoad(load, beyond: afterDrill)
            try await load.finish()
            await live.stop()

            #expect(report.verdict == .equal, "\(report.differences)")
            #expect(report.differenceCount == 0 && report.differences.isEmpty)
            #expect(report.keysAtMark > 200 && report.keysCompared == report.keysAtMark && report.keysRestored == report.keysAtMark)
            #expect(report.writesHeld > 0 && report.writesHeld < 2 + 5, "held \(report.writesHeld) s with a 2 s longest pause")
            #expect(report.markPosition != nil && report.restore != nil)
            #expect(await lab.isRunning("scratch") == false, "the scratch server is stopped after the drill")
            // The capture holds the mark key and the key in database 1: both restored.
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            #expect(try await c.send(["EXISTS", .string(report.markKey)]).int == 1)
            await c.close()
            // The mark has no index record (docs/restore.md): archive log finds its write.
            var found: [ArchiveLog.Line] = []
            try ArchiveLog.read(try ArchiveIndex.read(live.archive), filter: .init(key: "redkeep:mark:drill-*")) { found.append($0) }
            #expect(found.count == 1 && found.first?.text.contains(report.markKey) == true, "\(found.map(\.text))")
        }
    }

    @Test func afterARewriteADrillIntoAGivenServerReportsEqual() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            let load = Load(live.server.connectionConfiguration)
            try await Self.waitForLoad(load, beyond: 0, more: 30)
            // A new generation whose RDB base holds the keys (TTLs included), restored
            // into the given server as RESTORE payloads (no temporary server).
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            _ = try await c.send(["BGREWRITEAOF"])
            var generations = 0
            for _ in 0..<1000 where generations < 2 {
                generations = try ArchiveIndex.read(live.archive).generations.count
                if generations < 2 { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(generations >= 2, "the collector followed the rewrite")
            try await Self.waitForLoad(load, beyond: load.count, more: 10)
            let into = try await lab.start("into")
            let scratch = try await RedisConnection.connect(into.connectionConfiguration)
            _ = try await scratch.send(["SET", "left-over", "1"])  // emptied by flush: true
            let report = try await ArchiveDrill.run(try live.options(.connection(into.connectionConfiguration, name: "into", scratch: lab, flush: true)))
            try await load.finish()
            await live.stop()

            #expect(report.verdict == .equal, "\(report.differences)")
            #expect(report.restore?.plan.generation.gen == generations)
            #expect((report.restore?.outcome.baseKeys ?? 0) > 200, "the keys came from the RDB base")
            #expect(report.restore?.outcome.baseKeysThroughTemporaryServer == 0, "every key of a Redis 7.0 base has a payload")
            #expect(report.keysCompared == report.keysAtMark && report.keysAtMark > 200)
            #expect(try await scratch.send(["EXISTS", "left-over"]).int == 0)
            #expect(await lab.isRunning("into"), "a given server stays up")
            await scratch.close()
            await c.close()
        }
    }

    @Test func aDamagedArchiveReportsTheKeysThatDiffer() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            _ = try await c.send(["SET", "victim", "original"])
            _ = try await c.send(["SET", "bystander", "untouched"])
            // Wait (bounded) until the collector archived the write, then alter it in the
            // chunk and its sha256 in the index alike, as a checksum cannot catch.
            var damaged = false
            for _ in 0..<500 where !damaged {
                damaged = try Self.rewriteConsistently(archive: live.archive, from: "original", to: "damaged!")
                if !damaged { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(damaged, "the collector archived the write")
            #expect(try ArchiveVerifyResult.run(try ArchiveIndex.read(live.archive)).isSound, "verify cannot see this damage")

            var options = try live.options(.localServer(name: "scratch", lab: lab, keep: true))
            options.show = 5
            let report = try await ArchiveDrill.run(options)
            #expect(report.verdict == .different)
            #expect(report.differenceCount == 1)
            let first = try #require(report.differences.first)
            #expect(first.key == DrillKey(database: 0, key: Array("victim".utf8)))
            #expect(first.reason == .differentValue)
            // The restore really holds the altered value (kept with keep: true).
            let scratch = try await RedisConnection.connect(try #require(await lab.server("scratch")).connectionConfiguration)
            #expect(try await scratch.send(["GET", "victim"]).string == "damaged!")
            #expect(try await scratch.send(["GET", "bystander"]).string == "untouched")
            await scratch.close()

            // A chunk removed: the restore refuses, naming it; the drill says so.
            let index = try ArchiveIndex.read(live.archive)
            let chunk = try #require(index.chunks.first)
            try FileManager.default.removeItem(atPath: live.archive + "/" + chunk.path)
            await #expect {
                _ = try await ArchiveDrill.run(try live.options(.localServer(name: "scratch-2", lab: lab, keep: false)))
            } throws: { error in
                guard let e = error as? ArchiveDrillError, e.kind == .restore, let restore = e.underlying as? RestoreError else { return false }
                return restore.kind == .damagedArchive && e.message.contains(chunk.path.split(separator: "/").last.map(String.init) ?? chunk.path)
            }
            // Writes are not held after the failed drill.
            _ = try await c.send(["SET", "after", "1"])
            await c.close()
            await live.stop()
        }
    }

    @Test func writesAreResumedWhenTheMarkNeverReachesTheArchive() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            _ = try await c.send(["SET", "a", "1"])
            await live.stop()  // no collector any more: the mark cannot be archived
            var options = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            options.maxPause = .seconds(60)
            options.timeout = .seconds(2)
            await #expect {
                _ = try await ArchiveDrill.run(options)
            } throws: { error in
                guard let e = error as? ArchiveDrillError else { return false }
                // The error names the step that ran out of the drill's time, and the bound.
                return e.kind == .markNotArchived && e.message.contains("is a collector running for this archive?")
                    && e.message.contains("while waiting for the mark") && e.message.contains("(\(options.timeout))")
            }
            try await live.expectWritable()
            await c.close()
        }
    }

    /// `--timeout` bounds the whole drill, its first steps too: a live server frozen by
    /// another client's `CLIENT PAUSE ... ALL` holds the drill's checks (INFO server), which
    /// on their own would wait for the pause (10 s) or the connection's timeout (30 s); the
    /// drill stops at its 1 s, naming the step.
    @Test func theTimeoutBoundsTheFirstStepsOnAFrozenServer() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            await live.stop()
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            var options = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            options.timeout = .seconds(1)
            _ = try await c.send(["CLIENT", "PAUSE", "10000", "ALL"])
            let started = ContinuousClock.now
            await #expect {
                _ = try await ArchiveDrill.run(options)
            } throws: { error in
                guard let e = error as? ArchiveDrillError else { return false }
                return e.kind == .timeout && e.message.contains("while checking the live server 127.0.0.1:\(live.server.port)")
                    && e.message.contains("(\(options.timeout))") && e.message.contains("raise --timeout")
            }
            // Generous: far under the pause (10 s) and the connection's own timeout (30 s).
            #expect(ContinuousClock.now - started < .seconds(7))
            await c.close()
        }
    }

    @Test func writesAreResumedWhenTheCaptureFailsWhileTheyAreHeld() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            _ = try await c.send(["SET", "small", "1"])
            // Random text: DUMP compresses a repeated byte to almost nothing.
            _ = try await c.send(["SET", "big", .string((0..<5000).map { _ in UUID().uuidString }.joined())])
            // The drill's connection refuses replies over 64 KiB: the DUMP of "big", read
            // while writes are held, breaks it, and CLIENT UNPAUSE must go on a new one.
            var options = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            options.live.maxReplyBytes = 64 << 10
            options.maxPause = .seconds(60)
            await #expect {
                _ = try await ArchiveDrill.run(options)
            } throws: { error in
                guard let e = error as? ArchiveDrillError else { return false }
                return e.kind == .live && e.message.contains("while its writes were held failed") && e.message.contains("writes were resumed")
            }
            try await live.expectWritable()
            await c.close()
            await live.stop()
        }
    }

    @Test func badRequestsAreRefusedBeforeAnythingIsPaused() async throws {
        try await withLab { lab in
            let live = try await Protected.start(lab)
            defer { live.collector.requestStop() }
            let c = try await RedisConnection.connect(live.server.connectionConfiguration)
            func refused(_ options: ArchiveDrillOptions, _ mark: String, _ words: String) async throws {
                await #expect {
                    _ = try await ArchiveDrill.run(options, markName: mark)
                } throws: { error in
                    guard let e = error as? ArchiveDrillError else { return false }
                    return e.kind == .invalidRequest && e.message.contains(words)
                }
                // Mark and pause are one transaction: no mark key, no pause.
                #expect(try await c.send(["EXISTS", .string("redkeep:mark:" + mark)]).int == 0)
            }
            var tooLong = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            tooLong.maxPause = .seconds(61)
            try await refused(tooLong, "too-long", "longest pause")
            var tooShort = tooLong
            tooShort.maxPause = .milliseconds(5)
            try await refused(tooShort, "too-short", "longest pause")
            var show = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            show.show = 1001
            try await refused(show, "show", "differing keys")
            let intoLive = try live.options(.connection(live.server.connectionConfiguration, name: "live", scratch: lab, flush: true))
            try await refused(intoLive, "into-live", "is the live server")
            // 600 keys of 36 KB of random text: reading one batch of 500 (18 MB of DUMP
            // payloads, each decoded and digested) takes far longer than a 10 ms pause allows.
            let random = (0..<1000).map { _ in UUID().uuidString }.joined()
            for batch in 0..<6 {
                let commands = (0..<100).map { i in RESPCommand("SET", "large\(batch * 100 + i)", random) }
                _ = try await c.pipeline(commands)
            }
            var brief = try live.options(.localServer(name: "scratch", lab: lab, keep: false))
            brief.maxPause = .milliseconds(10)
            await #expect {
                _ = try await ArchiveDrill.run(brief, markName: "brief")
            } throws: { error in
                guard let e = error as? ArchiveDrillError else { return false }
                return e.kind == .unsupported && e.message.contains("nothing was paused")
            }
            #expect(try await c.send(["EXISTS", "redkeep:mark:brief"]).int == 0)
            #expect(try await c.send(["SET", "still-writable", "1"]).string == "OK")
            await c.close()
            await live.stop()
        }
    }
}

extension ArchiveDrillTests {
    /// Replaces `from` by `to` (same length) in the archived chunk holding it, and that
    /// chunk's sha256 in index.jsonl in place (the collector keeps appending to the file).
    /// False while no archived chunk holds `from`.
    static func rewriteConsistently(archive: String, from: String, to: String) throws -> Bool {
        precondition(from.utf8.count == to.utf8.count)
        let index = try ArchiveIndex.read(archive)
        for chunk in index.chunks {
            let path = archive + "/" + chunk.path
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            guard let at = bytes.firstRange(of: Array(from.utf8)) else { continue }
            bytes.replaceSubrange(at, with: Array(to.utf8))
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let indexPath = archive + "/index.jsonl"
            let text = try [UInt8](Data(contentsOf: URL(fileURLWithPath: indexPath)))
            let old = Array(chunk.sha256.utf8)
            let position = try #require(text.firstRange(of: old))
            let handle = try #require(FileHandle(forUpdatingAtPath: indexPath))
            try handle.seek(toOffset: UInt64(position.lowerBound))
            try handle.write(contentsOf: Array(SHA256Hasher.hex(of: bytes).utf8))
            try handle.close()
            return true
        }
        return false
    }
}
