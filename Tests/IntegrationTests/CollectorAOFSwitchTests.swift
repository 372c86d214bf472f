import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Writes made while `appendonly` is off never reach the AOF: the collector records the
/// window as a gap, and a restore into it is refused instead of silently missing them.
@Suite(.serialized) struct CollectorAOFSwitchTests {
    /// A source with `#TS` annotations, no automatic rewrites and DEBUG DIGEST, a collector
    /// on it looking every `interval`, and a connection to the source.
    static func start(in lab: Lab, interval: Duration) async throws
        -> (archive: String, collector: Collector, running: Task<Void, Never>, source: RedisConnection) {
        let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [
            ("auto-aof-rewrite-percentage", "0"), ReplicaCollectorTests.debug,
        ]))
        let archive = try restoreTemporaryFolder("archive", in: lab)
        let collector = try await Collector.open(name: "c", source: server.connectionConfiguration,
                                                 options: CollectorOptions(archive: archive, pause: .zero, interval: interval))
        let running = Task { await collector.run() }
        return (archive, collector, running, try await RedisConnection.connect(server.connectionConfiguration))
    }

    @Test func aWindowWithTheAOFOffIsAGapAndRestoresIntoItAreRefused() async throws {
        try await withLab { lab in
            let (archive, collector, running, c) = try await Self.start(in: lab, interval: .milliseconds(200))
            _ = try await c.send(["SET", "before", "1"])
            try await Task.sleep(for: .milliseconds(1200))

            _ = try await c.send(["CONFIG", "SET", "appendonly", "no"])
            try await Task.sleep(for: .milliseconds(1200))
            _ = try await c.send(["SET", "lost", "1"])
            let offSecond = currentSecond()
            try await Task.sleep(for: .milliseconds(1200))
            #expect(collector.status().warnings.contains { $0.contains("appendonly is off") })

            _ = try await c.send(["CONFIG", "SET", "appendonly", "yes"])
            for _ in 0..<200 {
                let info = try await c.info("persistence")
                if info.int("aof_enabled") == 1 && info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(1200))
            _ = try await c.send(["SET", "after", "1"])
            let afterSecond = currentSecond()
            try await Task.sleep(for: .milliseconds(1500))
            collector.requestStop()
            await running.value
            await c.close()

            let index = try ArchiveIndex.read(archive)
            let gap = try #require(index.gaps.first { $0.reason.contains("appendonly was switched off") }, "no gap: \(index.gaps)")
            #expect(gap.from <= Double(offSecond) && Double(offSecond) < gap.to)
            do throws(RestoreError) {
                _ = try RestorePlan.make(index, target: .time(second: offSecond, inclusive: true))
                Issue.record("a restore to a second with the AOF off was planned")
            } catch {
                #expect(error.kind == .notInArchive && error.message.contains("switched off"))
            }
            // The base Redis wrote when the AOF came back serves the times after it.
            let plan = try RestorePlan.make(index, target: .time(second: afterSecond, inclusive: true))
            #expect(plan.generation.gen >= 2)
        }
    }

    /// An off/on toggle well inside one interval: `aof_enabled` is looked at once at the
    /// start (the next look is an hour away), so only the folder watch (the `temp-*.incr`
    /// Redis creates when the AOF is switched on) can see it.
    @Test func aToggleBetweenTwoLooksIsSeenInTheFolderAndIsAGap() async throws {
        try await withLab { lab in
            let (archive, collector, running, c) = try await Self.start(in: lab, interval: .seconds(3600))
            _ = try await c.send(["SET", "before", "1"])
            // After the collector's first look (which saw the AOF on).
            try await Task.sleep(for: .milliseconds(1200))

            // Off, writes, on: about a second, between two looks. The window spans a
            // second boundary, so a second in it is older than the base Redis writes when
            // the AOF comes back (a base taken later in the same second would serve it).
            try await sleepUntilFraction(0.2)
            _ = try await c.send(["CONFIG", "SET", "appendonly", "no"])
            _ = try await c.send(["SET", "lost", "1"])
            let offSecond = currentSecond()
            try await sleepUntilFraction(0.2)
            _ = try await c.send(["SET", "lost-too", "1"])
            _ = try await c.send(["CONFIG", "SET", "appendonly", "yes"])
            var rewritten = false
            for _ in 0..<400 {
                let info = try await c.info("persistence")
                if info.int("aof_enabled") == 1 && info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 {
                    rewritten = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(rewritten, "the rewrite after appendonly yes did not finish in 20 s")
            // A second after the new base was written.
            try await Task.sleep(for: .milliseconds(1100))
            try await sleepUntilFraction(0.2)
            _ = try await c.send(["SET", "after", "1"])
            let afterSecond = currentSecond()
            try await Task.sleep(for: .milliseconds(1100))
            #expect(!collector.status().warnings.contains { $0.contains("appendonly is off") }, "the look at aof_enabled saw the toggle; the test proves nothing")
            collector.requestStop()
            await running.value
            let sourceDigest = try await RDBRoundTripTests.digest(c)
            await c.close()

            let index = try ArchiveIndex.read(archive)
            let gap = try #require(index.gaps.first { $0.reason.contains("switched off and on") }, "no gap: \(index.gaps)")
            #expect(gap.reason.contains("temp-") && gap.reason.contains("only when the AOF is switched on"), "\(gap.reason)")
            #expect(gap.from <= Double(offSecond) && Double(offSecond) < gap.to)
            do throws(RestoreError) {
                _ = try RestorePlan.make(index, target: .time(second: offSecond, inclusive: true))
                Issue.record("a restore to a second with the AOF off was planned")
            } catch {
                #expect(error.kind == .notInArchive && error.message.contains("switched off and on"), "\(error.message)")
            }
            // The base Redis wrote when the AOF came back, and its stream, serve the times after it.
            let newest = try #require(index.generations.last)
            #expect(newest.asOf < Double(afterSecond))
            let restored = try await ReplicaCollectorTests.restored(archive, .time(second: afterSecond, inclusive: true), in: lab)
            #expect(restored.digest == sourceDigest)
        }
    }

    /// A plain BGREWRITEAOF under writes opens a regular incr file, not the temporary one
    /// of a switch back on: the folder watch records no gap for it.
    @Test func aRestartWhileTheServerLoadsIsNoToggle() async throws {
        try await withLab { lab in
            // key-load-delay (µs per key, Redis's own testing knob) makes the load after
            // the restart last about two seconds, so the collector looks during it, when
            // Redis reports aof_enabled:0.
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [
                ("auto-aof-rewrite-percentage", "0"), ("key-load-delay", "100"),
            ]))
            let archive = try restoreTemporaryFolder("archive", in: lab)
            let collector = try await Collector.open(name: "c", source: server.connectionConfiguration,
                                                     options: CollectorOptions(archive: archive, pause: .zero, interval: .milliseconds(100)))
            let running = Task { await collector.run() }
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            for batch in 0..<20 {
                var arguments: [RESPArgument] = ["MSET"]
                for n in 0..<1000 { arguments += [.string("k\(batch * 1000 + n)"), "v"] }
                _ = try await c.send(RESPCommand(arguments))
            }
            // Into the base, as RDB (the delay applies to loading RDB, not AOF commands).
            try await CollectorTests.rewrite(c)
            await c.close()
            try await Task.sleep(for: .milliseconds(500))
            try await lab.restart("source")
            // Loaded and looked at again (bounded wait).
            let restarted = try await RedisConnection.connect(server.connectionConfiguration)
            let start = ContinuousClock.now
            while (try? await restarted.info("persistence").int("loading")) != 0 && ContinuousClock.now - start < .seconds(30) {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(500))
            collector.requestStop()
            await running.value
            await restarted.close()
            let index = try ArchiveIndex.read(archive)
            #expect(index.gaps.isEmpty, "\(index.gaps)")
        }
    }

    @Test func aRewriteUnderWritesIsNoToggle() async throws {
        try await withLab { lab in
            let (archive, collector, running, c) = try await Self.start(in: lab, interval: .milliseconds(200))
            let writer = try await RedisConnection.connect(c.configuration)
            let writes = Task {
                for n in 0..<2000 { _ = try await writer.send(["SET", .string("k\(n % 100)"), .string("\(n)")]) }
            }
            for _ in 0..<3 {
                try await CollectorTests.rewrite(c)
                try await Task.sleep(for: .milliseconds(400))  // a look in between, so each base is followed
            }
            try await writes.value
            try await Task.sleep(for: .milliseconds(500))
            collector.requestStop()
            await running.value
            await writer.close()
            await c.close()

            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.count >= 2, "\(index.generations.count) generations: the rewrites were not followed")
            #expect(index.gaps.isEmpty, "\(index.gaps)")
        }
    }
}
