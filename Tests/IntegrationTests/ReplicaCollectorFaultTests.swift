import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The replica collector when things go wrong: the backlog no longer holds the archived
/// offset (a full sync, a new generation, a gap naming the lost range), a server that
/// refuses PSYNC (ACL, rename-command: a clear error, nothing archived), a server restart.
@Suite(.serialized) struct ReplicaCollectorFaultTests {
    typealias Support = ReplicaCollectorTests

    func restoreLatest(_ archive: String, into lab: Lab) async throws -> [String: String] {
        let target = try await lab.start("target-\(UUID().uuidString.prefix(8))")
        let c = try await RedisConnection.connect(target.connectionConfiguration)
        var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest), target: c)
        replay.flush = true
        replay.lab = lab
        let outcome = try await replay.run()
        #expect(outcome.errorReplies == 0)
        let contents = try await restoreContents(c)
        await c.close()
        return contents
    }

    @Test func aLostBacklogMakesANewGenerationAndAGap() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(config: [("repl-backlog-size", "16kb")]))
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            let archive = try restoreTemporaryFolder("replica", in: lab)
            var (collector, running) = try await Support.startCollector(server, archive: archive)
            _ = try await source.send(["SET", "first", "1"])
            try await Support.waitArchived(source)
            collector.requestStop()
            await running.value
            // More than the backlog holds while the collector is away.
            let value = String(repeating: "x", count: 1024)
            for i in 0..<64 { _ = try await source.send(["SET", .string("big\(i)"), .string(value)]) }
            (collector, running) = try await Support.startCollector(server, archive: archive)
            _ = try await source.send(["SET", "after", "1"])
            try await Support.waitArchived(source)
            let status = collector.status()
            collector.requestStop()
            await running.value
            #expect(status.replica?.fullSyncs == 1 && status.replica?.resumes == 0)
            #expect(try await Support.stats(source).full == 2)
            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.count == 2)
            let gap = try #require(index.gaps.first)
            #expect(index.gaps.count == 1)
            #expect(gap.reason.contains("could not continue replication") && gap.reason.contains("full sync made a new base"))
            #expect(try await restoreLatest(archive, into: lab) == restoreContents(source))
            await source.close()
        }
    }

    @Test func aServerThatRefusesPSYNCSaysWhy() async throws {
        try await withLab { lab in
            let server = try await lab.start("source")
            let admin = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await admin.send(["ACL", "SETUSER", "archiver", "on", ">pw", "~*", "&*", "+@all", "-psync", "-sync"])
            var configuration = server.connectionConfiguration
            configuration.username = "archiver"
            configuration.password = RedisSecret("pw")
            let archive = try restoreTemporaryFolder("replica", in: lab)
            var options = CollectorOptions(archive: archive, interval: .milliseconds(100))
            options.replica = true
            let collector = try await ReplicaCollector.open(name: "source", source: configuration, options: options)
            let running = Task.detached { await collector.run() }
            try await Support.waitUntil("the collector reports an error") { collector.status().errors > 0 }
            collector.requestStop()
            await running.value
            let message = collector.status().lastError ?? ""
            #expect(message.contains("\(server.endpoint) refused PSYNC"), "\(message)")
            #expect(message.contains("NOPERM") && message.contains("+psync"), "\(message)")
            #expect(!message.contains("pw"))
            #expect(try ArchiveIndex.read(archive).generations.isEmpty)
            await admin.close()
        }
    }

    @Test func aRenamedPSYNCSaysWhy() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(config: [("rename-command PSYNC", "psync-renamed-away")]))
            let archive = try restoreTemporaryFolder("replica", in: lab)
            var options = CollectorOptions(archive: archive, interval: .milliseconds(100))
            options.replica = true
            let collector = try await ReplicaCollector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }
            try await Support.waitUntil("the collector reports an error") { collector.status().errors > 0 }
            collector.requestStop()
            await running.value
            let message = collector.status().lastError ?? ""
            #expect(message.contains("refused PSYNC") && message.contains("unknown command") && message.contains("rename-command"), "\(message)")
        }
    }

    @Test func aServerRestartIsFollowedWithoutASilentHole() async throws {
        try await withLab { lab in
            let server = try await lab.start("source")
            var source = try await RedisConnection.connect(server.connectionConfiguration)
            let archive = try restoreTemporaryFolder("replica", in: lab)
            let (collector, running) = try await Support.startCollector(server, archive: archive)
            _ = try await source.send(["SET", "before-restart", "1"])
            try await Support.waitArchived(source)
            await source.close()
            let restarted = try await lab.restart("source")
            source = try await RedisConnection.connect(restarted.connectionConfiguration)
            _ = try await source.send(["SET", "after-restart", "1"])
            try await Support.waitUntil("the collector follows the restarted server") {
                let link = collector.status().replica
                return link?.state == .streaming && (link?.fullSyncs ?? 0) + (link?.resumes ?? 0) >= 2
            }
            try await Support.waitArchived(source)
            let status = collector.status()
            collector.requestStop()
            await running.value
            let index = try ArchiveIndex.read(archive)
            // Either the restarted server continued the history (its RDB kept the
            // replication id) or a new full sync made a new generation after a gap.
            if status.replica?.fullSyncs == 2 {
                #expect(index.generations.count == 2 && index.gaps.count == 1)
            } else {
                #expect(status.replica?.resumes ?? 0 >= 1 && index.gaps.isEmpty && index.generations.count == 1)
            }
            #expect(try await restoreLatest(archive, into: lab) == restoreContents(source))
            await source.close()
        }
    }
}
