import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The collector as a replica of a real redis-server with no AOF (`appendonly no`): the
/// full sync becomes the base, the stream the chunks; links cut by `CLIENT KILL TYPE
/// replica` and a collector restart continue with PSYNC (no new full sync on the source);
/// `WAIT 1` returns once writes are archived; restores to the latest state and to chosen
/// seconds equal the source at those points.
@Suite(.serialized) struct ReplicaCollectorTests {
    /// Waits (at most `timeout`) until `condition` holds; throws saying what was awaited.
    static func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw LabError("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func startCollector(_ server: LocalServer, archive: String) async throws -> (ReplicaCollector, Task<Void, Never>) {
        var options = CollectorOptions(archive: archive, chunkSize: 512, pause: .zero, interval: .milliseconds(100), rate: nil)
        options.replica = true
        let collector = try await ReplicaCollector.open(name: "source", source: server.connectionConfiguration, options: options)
        let running = Task.detached { await collector.run() }
        do {
            try await waitUntil("the collector streams") { collector.status().replica?.state == .streaming }
        } catch {
            throw LabError("\(error): \(collector.status())")
        }
        return (collector, running)
    }

    /// `WAIT 1`: the collector acknowledged (archived) every write made so far.
    static func waitArchived(_ source: RedisConnection) async throws {
        let acknowledged = try await source.send(["WAIT", "1", "10000"]).int
        #expect(acknowledged == 1, "WAIT 1 returned \(acknowledged ?? -1): the collector did not acknowledge the writes")
    }

    /// Lets the tests compare contents with DEBUG DIGEST.
    static let debug: (name: String, value: String) = ("enable-debug-command", "local")

    /// Replays `archive` up to `target` into a new Lab server; its contents' DEBUG DIGEST
    /// and what the replay reports.
    static func restored(_ archive: String, _ target: ReplayTarget = .latest, in lab: Lab) async throws -> (digest: String, outcome: ReplayOutcome) {
        let server = try await lab.start("target-\(UUID().uuidString.prefix(8))", LocalServerOptions(config: [debug]))
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: target), target: c)
        replay.flush = true
        replay.lab = lab
        let outcome = try await replay.run()
        let digest = try await RDBRoundTripTests.digest(c)
        await c.close()
        return (digest, outcome)
    }

    static func stats(_ source: RedisConnection) async throws -> (full: Int, partial: Int) {
        let info = try await source.info("stats")
        return (info.int("sync_full") ?? -1, info.int("sync_partial_ok") ?? -1)
    }

    /// Writes of every kind the issue names, in one second (kept clear of its edges).
    static func writeSecond(_ source: RedisConnection, _ n: Int) async throws -> Int64 {
        try await sleepUntilFraction(0.2)
        let second = currentSecond()
        _ = try await source.send(["SET", .string("s\(n)"), .string("v\(n)")])
        _ = try await source.send(["INCR", "counter"])
        _ = try await source.send(["LPUSH", "list", .string("e\(n)")])
        _ = try await source.send(["HSET", "hash", .string("f\(n)"), .string("\(n)")])
        _ = try await source.send(["ZADD", "zset", .string("\(n)"), .string("m\(n)")])
        _ = try await source.send(["SELECT", "1"])
        _ = try await source.send(["MULTI"])
        _ = try await source.send(["SET", .string("tx\(n)"), "1"])
        _ = try await source.send(["INCRBY", "counter1", .string("\(n)")])
        _ = try await source.send(["EXEC"])
        _ = try await source.send(["SELECT", "0"])
        #expect(currentSecond() == second, "the writes of step \(n) spilled into the next second")
        return second
    }

    func collectsResumesAndRestores(lab: Lab, diskless: Bool) async throws {
        let server = try await lab.start("source", LocalServerOptions(appendOnly: false, config: [
            ("repl-diskless-sync", diskless ? "yes" : "no"), ("repl-diskless-sync-delay", "0"),
        ]))
        let source = try await RedisConnection.connect(server.connectionConfiguration)
        _ = try await source.send(["SET", "before-sync", "1"])
        let archive = try restoreTemporaryFolder("replica", in: lab)
        var (collector, running) = try await Self.startCollector(server, archive: archive)
        var expected: [Int64: [String: String]] = [:]
        var seconds: [Int64] = []
        func step(_ n: Int) async throws {
            let second = try await Self.writeSecond(source, n)
            seconds.append(second)
            expected[second] = try await restoreContents(source)
        }
        try await step(1)
        try await step(2)
        try await Self.waitArchived(source)
        // Links cut by the server: each continues from the archived offset.
        for n in 3...5 {
            _ = try await source.send(["CLIENT", "KILL", "TYPE", "replica"])
            try await step(n)
            try await Self.waitUntil("the collector streams again: \(collector.status())") { collector.status().replica?.state == .streaming }
            try await Self.waitArchived(source)
        }
        #expect(collector.status().replica?.resumes ?? 0 >= 3)
        // The collector restarts: it continues from what the archive holds.
        collector.requestStop()
        await running.value
        try await step(6)
        (collector, running) = try await Self.startCollector(server, archive: archive)
        try await step(7)
        try await Self.waitArchived(source)
        let status = collector.status()
        #expect(status.replica?.resumes == 1 && status.replica?.fullSyncs == 0)
        #expect(status.replica?.lagBytes == 0)
        collector.requestStop()
        await running.value
        #expect(status.errors == 0 || status.lastError?.contains("closed the replica link") == true, "\(status.lastError ?? "")")

        // Disk-based, the source saved its RDB to a file for the sync; diskless, it never wrote one.
        #expect(FileManager.default.fileExists(atPath: server.directory + "/dump.rdb") == !diskless)
        let counts = try await Self.stats(source)
        #expect(counts.full == 1, "the source made \(counts.full) full syncs")
        #expect(counts.partial >= 4)
        let index = try ArchiveIndex.read(archive)
        #expect(index.generations.count == 1 && index.gaps.isEmpty)
        #expect(try ArchiveVerifyResult.run(index).isSound)

        let target = try await lab.start("target")
        let c = try await RedisConnection.connect(target.connectionConfiguration)
        func restore(_ t: ReplayTarget) async throws -> ReplayOutcome {
            var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: t), target: c)
            replay.flush = true
            replay.lab = lab
            return try await replay.run()
        }
        let outcome = try await restore(.latest)
        #expect(outcome.errorReplies == 0)
        #expect(try await restoreContents(c) == restoreContents(source))
        for second in seconds {
            _ = try await restore(.time(second: second, inclusive: true))
            #expect(try await restoreContents(c) == expected[second]!, "restore to \(second)")
        }
        await c.close()
        await source.close()
    }

    @Test func diskBasedSync() async throws {
        try await withLab { lab in try await collectsResumesAndRestores(lab: lab, diskless: false) }
    }

    @Test func disklessSync() async throws {
        try await withLab { lab in try await collectsResumesAndRestores(lab: lab, diskless: true) }
    }

    @Test func overTLSWithAUserAndPassword() async throws {
        try await withLab { lab in
            let secret = RedisSecret("replica-\(UUID().uuidString.prefix(8))")
            let server = try await lab.start("source", LocalServerOptions(config: [Self.debug], tls: true, password: secret, user: "ops"))
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await source.send(["SET", "before-sync", "1"])
            let archive = try restoreTemporaryFolder("replica", in: lab)
            let (collector, running) = try await Self.startCollector(server, archive: archive)
            for n in 1...3 { _ = try await Self.writeSecond(source, n) }
            try await Self.waitArchived(source)
            let status = collector.status()
            collector.requestStop()
            await running.value
            #expect(status.replica?.fullSyncs == 1 && status.errors == 0, "\(status.lastError ?? "")")
            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.count == 1 && index.gaps.isEmpty && !index.chunks.isEmpty)
            let restored = try await Self.restored(archive, in: lab)
            #expect(restored.outcome.errorReplies == 0)
            #expect(try await restored.digest == RDBRoundTripTests.digest(source))
            await source.close()
        }
    }

    /// As with AOF archives: a target inside a MULTI/EXEC block (the replication stream
    /// carries it as the clients sent it) leaves the whole block out.
    @Test func aTransactionCutByTheTargetIsRolledBack() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(config: [Self.debug]))
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            let archive = try restoreTemporaryFolder("replica", in: lab)
            let (collector, running) = try await Self.startCollector(server, archive: archive)
            _ = try await source.send(["SET", "counter", "1"])
            _ = try await source.send(["SET", "plain", "yes"])
            try await Self.waitArchived(source)
            let before = try await RDBRoundTripTests.digest(source)
            _ = try await source.pipeline([["MULTI"], ["INCRBY", "counter", "100"], ["SET", "tx", "done"], ["EXEC"]])
            _ = try await source.send(["SET", "after", "1"])
            try await Self.waitArchived(source)
            collector.requestStop()
            await running.value

            let index = try ArchiveIndex.read(archive)
            var multi: ArchiveLog.Line?
            try ArchiveLog.read(index, filter: .init(command: "MULTI")) { multi = $0 }
            let at = try #require(multi)
            let gen = try #require(index.generations.last { $0.firstStream <= at.stream })
            // Inside the block: after MULTI and its first queued command, before EXEC.
            let cut = at.offset + "*1\r\n$5\r\nMULTI\r\n".utf8.count + "*3\r\n$6\r\nINCRBY\r\n$7\r\ncounter\r\n$3\r\n100\r\n".utf8.count + 1
            let restored = try await Self.restored(archive, .offset(generation: gen.gen, stream: at.stream, bytes: cut), in: lab)
            #expect(restored.digest == before)
            #expect(restored.outcome.rolledBack.count == 1)
            #expect(restored.outcome.rolledBack.first?.at.stream == at.stream && restored.outcome.rolledBack.first?.at.offset == at.offset)
            // Past EXEC, the block is in.
            let whole = try await Self.restored(archive, in: lab)
            #expect(whole.outcome.rolledBack.isEmpty)
            #expect(try await whole.digest == RDBRoundTripTests.digest(source))
            await source.close()
        }
    }
}
