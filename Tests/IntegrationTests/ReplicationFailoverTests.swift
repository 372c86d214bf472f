import Foundation
import Operations
import RESP
import RedisClient
import Synchronization
import Testing

/// failover --promote, --replace and --sentinel against real servers, with faults.
@Suite struct ReplicationFailoverTests {
    @Test func promoteUnderWriteLoadLosesNoAcknowledgedWrite() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            try await lab.start("r2", LocalServerOptions(replicaOf: "master"))
            let writer = try await lab.connect("master")
            let acknowledged = Atomic<Int>(0)
            let load = Task {
                var n = 0
                while !Task.isCancelled {
                    // A write either is acknowledged (and must survive) or fails with READONLY
                    // once the old master is demoted.
                    guard let reply = try? await writer.reply(to: ["INCR", "counter"]), let value = reply.int else { break }
                    n = value
                    acknowledged.store(n, ordering: .sequentiallyConsistent)
                }
                return n
            }
            try await Task.sleep(for: .milliseconds(100))
            let report = try await Failover.promote(try await lab.replicationServer("r1"),
                                                    others: [try await lab.replicationServer("r2")],
                                                    known: [try await lab.replicationServer("master")])
            load.cancel()
            _ = await load.value
            #expect(report.completed)
            #expect(report.newMaster == "r1")
            #expect(report.lostBytes == 0)
            #expect(report.steps.map(\.status).allSatisfy { $0 == .done })
            let last = acknowledged.load(ordering: .sequentiallyConsistent)
            #expect(last > 0)
            let r1 = try await lab.connect("r1")
            let kept = try #require(try await r1.send(["GET", "counter"]).string.flatMap(Int.init))
            #expect(kept >= last, "the new master has \(kept), the old one acknowledged \(last)")
            #expect(try await r1.replicationState().roleName == "master")
            let old = try await lab.connect("master")
            let oldState = try await old.replicationState()
            #expect(oldState.isReplica)
            #expect(try await old.reply(to: ["SET", "x", "1"]).errorMessage?.hasPrefix("READONLY") == true)
            // Exactly one master among the three.
            #expect(report.servers.filter(\.isMaster).map(\.name) == ["r1"])
            await r1.close(); await old.close(); await writer.close()
        }
    }

    @Test func dryRunPlansButChangesNothing() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            let report = try await Failover.promote(try await lab.replicationServer("r1"), others: [],
                                                    options: FailoverOptions(dryRun: true))
            #expect(report.dryRun)
            #expect(!report.completed)
            #expect(report.steps.first?.title.contains("CLIENT PAUSE") == true)
            #expect(report.steps.allSatisfy { $0.status == .planned && $0.micros == nil })
            let r1 = try await lab.connect("r1")
            #expect(try await r1.replicationState().isReplica)
            await r1.close()
        }
    }

    @Test func goneMasterPromotesTheHighestOffset() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            try await lab.start("r2", LocalServerOptions(replicaOf: "master"))
            let m = try await lab.connect("master")
            // r1 stops following for a while: r2 gets further.
            let r1 = try await lab.connect("r1")
            _ = try await r1.send(["REPLICAOF", "NO", "ONE"])
            _ = try await r1.send(["REPLICAOF", "127.0.0.1", "1"])
            for i in 0..<50 { _ = try await m.send(["SET", .string("k\(i)"), "v"]) }
            _ = try await m.send(["WAIT", "1", "5000"])
            try await lab.crash("master")
            let report = try await Failover.promote(try await lab.replicationServer("r1"),
                                                    others: [try await lab.replicationServer("r2")],
                                                    options: FailoverOptions(force: true))
            #expect(report.completed)
            #expect(report.newMaster == "r2", "\(report.summary)")
            #expect(report.lostBytes == nil)
            #expect(report.notes.contains { $0.contains("does not answer") && $0.contains("lost") })
            let r2 = try await lab.connect("r2")
            #expect(try await r2.send(["DBSIZE"]) == .integer(50))
            #expect(try await r1.replicationState().master == .tcp(host: "127.0.0.1", port: try #require(await lab.server("r2")).port))
            await r1.close(); await r2.close(); await m.close()
        }
    }

    @Test func replicaWithLinkDownAndUnknownLagIsRefusedWithoutForce() async throws {
        try await withLab { lab in
            try await lab.start("lonely")
            let c = try await lab.connect("lonely")
            // A replica of a master that never existed: link down, never synced.
            _ = try await c.send(["REPLICAOF", "127.0.0.1", "1"])
            do {
                _ = try await Failover.promote(try await lab.replicationServer("lonely"), others: [])
                Issue.record("promoted a replica with unknown lag")
            } catch let error as ReplicationError {
                #expect(error.message.contains("refusing to promote"))
                #expect(error.message.contains("--force"))
                #expect(error.kind == .unsafe)
                #expect(error.server?.hasPrefix("lonely") == true)
            }
            #expect(try await c.replicationState().isReplica, "nothing was changed")
            let forced = try await Failover.promote(try await lab.replicationServer("lonely"), others: [],
                                                    options: FailoverOptions(force: true))
            #expect(forced.completed)
            #expect(try await c.replicationState().isReplica == false)
            await c.close()
        }
    }

    @Test func crashOfTheNewMasterMidFailoverIsUndoneAndExplained() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            try await lab.start("r2", LocalServerOptions(replicaOf: "master"))
            let labRef = lab
            // Crash r1 right after it was promoted, before r2 is repointed.
            let options = FailoverOptions(timeout: .seconds(3), beforeStep: { index, title in
                if title.hasPrefix("repoint") { try? await labRef.crash("r1") }
            })
            do {
                _ = try await Failover.promote(try await lab.replicationServer("r1"),
                                               others: [try await lab.replicationServer("r2")],
                                               known: [try await lab.replicationServer("master")], options: options)
                Issue.record("the failover succeeded with its new master dead")
            } catch let error as ReplicationError {
                let report = try #require(error.failover)
                #expect(error.kind == .stopped)
                #expect(error.underlying != nil)
                #expect(report.steps.contains { $0.status == .failed })
                #expect(report.steps.contains { $0.title.hasPrefix("undo: pause writes") && $0.status == .done })
                #expect(report.steps.contains { $0.status == .notRun } || report.steps.last?.status != .failed)
                let states = Dictionary(uniqueKeysWithValues: report.servers.map { ($0.name, $0.state) })
                #expect(states["r1"] == "does not answer")
                #expect(states["master"] == "master")
                #expect(states["r2"]?.hasPrefix("replica of") == true)
                #expect(error.message.contains("servers now"))
            }
            // The old master takes writes again (unpaused, still master).
            let m = try await lab.connect("master")
            #expect(try await m.send(["SET", "after", "1"]) == .simple("OK"))
            await m.close()
        }
    }

    @Test func replaceByReplicationCopiesTheData() async throws {
        try await withLab { lab in
            try await lab.start("a")
            try await lab.start("b", LocalServerOptions(replicaOf: "a"))
            try await lab.start("c")
            let a = try await lab.connect("a")
            for i in 0..<20 { _ = try await a.send(["HSET", .string("user:\(i)"), "funds", .string("\(i)")]) }
            _ = try await a.send(["WAIT", "1", "5000"])
            await a.close()
            try await lab.crash("a")
            // No Lab given: the copy goes by REPLICAOF, as for remote servers.
            let report = try await Failover.replace(master: try await lab.replicationServer("a"),
                                                    with: try await lab.replicationServer("c"),
                                                    from: try await lab.replicationServer("b"), lab: nil)
            #expect(report.completed, "\(report.summary)")
            #expect(report.steps.contains { $0.title.hasPrefix("copy by replication: REPLICAOF") })
            let c = try await lab.connect("c")
            #expect(try await c.send(["HGET", "user:7", "funds"]) == .bulk("7"))
            #expect(try await c.send(["DBSIZE"]) == .integer(20))
            #expect(try await c.replicationState().isReplica == false)
            await c.close()
        }
    }

    @Test func replaceRefusesAMasterThatStillAnswers() async throws {
        try await withLab { lab in
            try await lab.start("a")
            try await lab.start("b", LocalServerOptions(replicaOf: "a"))
            try await lab.start("c")
            do {
                _ = try await Failover.replace(master: try await lab.replicationServer("a"),
                                               with: try await lab.replicationServer("c"),
                                               from: try await lab.replicationServer("b"), lab: lab)
                Issue.record("replaced a live master")
            } catch let error as ReplicationError {
                #expect(error.message.contains("still answers as a master"))
                #expect(error.kind == .unsafe)
            }
        }
    }

    @Test func labStartsASentinelThatMonitorsTheMaster() async throws {
        try await withLab { lab in
            let master = try await lab.start("master")
            var options = LocalServerOptions()
            options.sentinel = SentinelOptions(monitor: "master")
            let sentinel = try await lab.start("s1", options)
            #expect(sentinel.sentinelOf == "127.0.0.1:\(master.port)")
            let s = try await lab.connect("s1")
            let reply = try await s.send(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "master"])
            #expect(reply.elements?.last?.string == String(master.port))
            let config = try String(contentsOfFile: sentinel.configPath, encoding: .utf8)
            #expect(config.contains("sentinel monitor master 127.0.0.1 \(master.port) 1"))
            await s.close()
        }
    }
}
