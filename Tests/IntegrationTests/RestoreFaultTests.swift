import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Faults during a replay into a real server: Ctrl-C (the stop flag) and a target that
/// dies, each reported with how far the replay got.
@Suite(.serialized) struct RestoreFaultTests {
    /// A server with 20,000 SETs in its incr file, archived.
    static func bigArchive(_ lab: Lab) async throws -> String {
        let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes")]))
        let archive = try restoreTemporaryFolder("archive", in: lab)
        let builder = try RestoreArchiveBuilder(root: archive, serverDirectory: server.directory)
        builder.chunkBytes = 64 * 1024
        try builder.collect()
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        for batch in 0..<20 {
            _ = try await c.pipeline((0..<1000).map { ["SET", .string("k:\(batch * 1000 + $0)"), "v"] })
        }
        try await Task.sleep(for: .milliseconds(1100))  // appendfsync everysec
        try builder.collect()
        await c.close()
        return archive
    }

    @Test func stoppingMidReplayStopsCleanlyAndSaysHowFar() async throws {
        try await withLab { lab in
            let archive = try await Self.bigArchive(lab)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest), target: c)
            replay.window = 100
            replay.lab = lab
            let stop = replay.stop
            replay.progress = { if $0.phase == .stream { stop.set() } }
            let outcome = try await replay.run()
            #expect(outcome.interrupted)
            #expect(outcome.commands == 100)
            #expect(outcome.stoppedAt != nil)
            // 100 commands acknowledged: the stream's SELECT 0 and 99 SETs.
            #expect(try await c.send(["DBSIZE"]).int == 99)
            await c.close()
        }
    }

    @Test func aTargetThatDiesMidReplayIsReportedWithProgress() async throws {
        try await withLab { lab in
            let archive = try await Self.bigArchive(lab)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest), target: c)
            replay.window = 10
            replay.lab = lab
            let crashed = StopFlag()
            replay.progress = { progress in
                guard progress.phase == .stream, !crashed.isSet else { return }
                crashed.set()
                Task { try? await lab.crash("target") }
            }
            do {
                _ = try await replay.run()
                Issue.record("the replay into a killed server succeeded")
            } catch {
                #expect("\(error)".contains(target.endpoint.description))
                #expect("\(error)".contains("failed after"))
                let applied = try #require((error as? RestoreError)?.progress).commands
                #expect(applied > 0 && applied < 20_000)
            }
        }
    }

    @Test func aNonEmptyTargetIsRefusedUnlessFlushed() async throws {
        try await withLab { lab in
            let archive = try await Self.bigArchive(lab)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            _ = try await c.send(["SET", "precious", "1"])
            let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest)
            do {
                _ = try await ConnectionReplay(plan: plan, target: c).run()
                Issue.record("a non-empty target was accepted")
            } catch {
                #expect("\(error)".contains("holds 1 keys") && "\(error)".contains("--flush"))
            }
            #expect(try await c.send(["GET", "precious"]).string == "1")
            await c.close()
        }
    }
}
