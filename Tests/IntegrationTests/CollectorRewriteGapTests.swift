import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The collector stopped, Redis rewrote its AOF meanwhile and deleted the old incr file
/// (auto-gc on, as by default): the old stream's tail is lost and recorded as a gap up to
/// the restart. The seconds between the rewrite and the restart are nevertheless served
/// by the new base and its stream, and used to be refused as inside the gap.
@Suite(.serialized) struct CollectorRewriteGapTests {
    /// Runs a collector for a moment, then stops it (it copies what the AOF holds).
    static func collect(_ server: LocalServer, _ options: CollectorOptions) async throws {
        let collector = try await Collector.open(name: "c", source: server.connectionConfiguration, options: options)
        let running = Task.detached { await collector.run() }
        try await Task.sleep(for: .milliseconds(400))
        collector.requestStop()
        await running.value
    }

    @Test func theSecondsAfterARewriteUnseenByTheCollectorAreServedByTheNewBase() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("auto-aof-rewrite-percentage", "0")]))
            let archive = try restoreTemporaryFolder("archive", in: lab)
            let options = CollectorOptions(archive: archive, pause: .zero, interval: .milliseconds(100))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["SET", "first", "1"])
            try await Self.collect(server, options)

            // Unseen by the collector: a write, a rewrite (the old incr file is deleted),
            // then, a second later, a write the new generation's stream holds.
            _ = try await c.send(["SET", "unseen", "1"])
            try await CollectorTests.rewrite(c)
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await c.send(["SET", "after-rewrite", "1"])
            let servedSecond = currentSecond()
            try await Task.sleep(for: .milliseconds(1100))

            try await Self.collect(server, options)

            let index = try ArchiveIndex.read(archive)
            let newest = try #require(index.generations.last)
            #expect(newest.gen >= 2, "the rewrite made no new generation: \(index.generations)")
            let gap = try #require(index.gaps.first, "no gap recorded for the lost tail")
            // The gap reaches past the second that the new base and stream hold.
            #expect(gap.from <= Double(servedSecond) && Double(servedSecond) < gap.to, "gap \(gap.from)..<\(gap.to), second \(servedSecond)")
            #expect(newest.asOf < Double(servedSecond))

            let plan = try RestorePlan.make(index, target: .time(second: servedSecond, inclusive: true))
            #expect(plan.generation.gen == newest.gen)
            let target = try await lab.start("target")
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .time(second: servedSecond, inclusive: true),
                                      destination: .connection(t, name: "target", scratch: lab))
            let restored = try await restoreContents(t)
            #expect(Set(restored.keys) == ["0:first", "0:unseen", "0:after-rewrite"], "\(restored)")
            await t.close()
            await c.close()
        }
    }
}
