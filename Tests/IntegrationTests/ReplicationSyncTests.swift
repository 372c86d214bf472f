import Foundation
import Operations
import RESP
import RedisClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// verify-sync and the replication tree against real chains of servers.
@Suite struct ReplicationSyncTests {
    @Test func tokenReachesEveryLevelOfAChain() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            try await lab.start("r2", LocalServerOptions(replicaOf: "r1"))
            try await lab.start("r3", LocalServerOptions(replicaOf: "r2"))
            let master = try await lab.replicationServer("master")
            let replicas = [try await lab.replicationServer("r1"), try await lab.replicationServer("r2"),
                            try await lab.replicationServer("r3")]
            let report = try await SyncVerifier.verify(master: master, replicas: replicas)
            #expect(report.ok)
            #expect(report.method == "WAIT")
            #expect(report.waitAcknowledged == 1)
            #expect(report.replicas.map(\.level) == [1, 2, 3])
            // Idle: at most a replication PING (14 bytes) in flight between the two INFO reads.
            #expect(report.replicas.allSatisfy { $0.seenMicros != nil && $0.link == "up" && (0...64).contains($0.offsetLag ?? -1) })
            // The token is cleaned up again, and stale ones are swept.
            let m = try await lab.connect("master")
            _ = try await m.send(["ZADD", "sync:wait", "1", "stale-token"])
            _ = try await SyncVerifier.verify(master: master, replicas: [replicas[0]])
            #expect(try await m.send(["ZCARD", "sync:wait"]) == .integer(0))
            await m.close()
        }
    }

    @Test func fsyncIsConfirmedByPolicyAndNoAOFIsSaid() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("always", LocalServerOptions(replicaOf: "master", appendOnly: true, config: [("appendfsync", "always")]))
            try await lab.start("everysec", LocalServerOptions(replicaOf: "master", appendOnly: true))
            try await lab.start("never", LocalServerOptions(replicaOf: "master", appendOnly: true, config: [("appendfsync", "no")]))
            try await lab.start("plain", LocalServerOptions(replicaOf: "master"))
            let names = ["always", "everysec", "never", "plain"]
            var replicas: [ReplicationServer] = []
            for name in names { replicas.append(try await lab.replicationServer(name)) }
            let report = try await SyncVerifier.verify(master: try await lab.replicationServer("master"), replicas: replicas,
                                                       options: SyncCheckOptions(fsync: true))
            #expect(report.replicas[0].fsync == .confirmed(method: "appendfsync always", micros: 0))
            guard case .confirmed(let method, _) = report.replicas[1].fsync else {
                Issue.record("everysec not confirmed: \(report.replicas[1].fsync)")
                return
            }
            #expect(method.hasPrefix("everysec"))
            guard case .notConfirmed(let why) = report.replicas[2].fsync else {
                Issue.record("appendfsync no was confirmed: \(report.replicas[2].fsync)")
                return
            }
            #expect(why.contains("appendfsync is no"))
            #expect(report.replicas[3].fsync == .noAOF)
            #expect(!report.ok)
            #expect(report.replicas.map(\.ok) == [true, true, false, false])
        }
    }

    @Test func aServerThatIsNotAReplicaIsRefused() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("loner")
            do {
                _ = try await SyncVerifier.verify(master: try await lab.replicationServer("master"),
                                                  replicas: [try await lab.replicationServer("loner")])
                Issue.record("a master was accepted as a replica")
            } catch let error as ReplicationError {
                #expect(error.message.contains("loner"))
                #expect(error.message.contains("is not a replica"))
                #expect(error.kind == .wrongRole)
                #expect(error.server?.hasPrefix("loner") == true)
            }
        }
    }

    @Test func aReplicaOfAnotherMasterIsRefused() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("other")
            try await lab.start("r", LocalServerOptions(replicaOf: "other"))
            do {
                _ = try await SyncVerifier.verify(master: try await lab.replicationServer("master"),
                                                  replicas: [try await lab.replicationServer("r")])
                Issue.record("a replica of another master was accepted")
            } catch let error as ReplicationError {
                #expect(error.message.contains("not in master"))
                #expect(error.kind == .wrongRole)
            }
        }
    }

    @Test func aMasterThatDoesNotAnswerIsAnError() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r", LocalServerOptions(replicaOf: "master"))
            let master = try await lab.replicationServer("master")
            try await lab.crash("master")
            do {
                _ = try await SyncVerifier.verify(master: master, replicas: [try await lab.replicationServer("r")])
                Issue.record("verify-sync succeeded without a master")
            } catch let error as ReplicationError {
                #expect(error.message.contains("master"))
                #expect(error.message.contains("does not answer"))
                #expect(error.message.contains(master.endpoint.description))
                #expect(error.kind == .connection)
            }
        }
    }

    @Test func aLinkThatDropsDuringTheWaitIsReported() async throws {
        try await withLab { lab in
            try await lab.start("master")
            let helper = try await lab.start("helper", LocalServerOptions(replicaOf: "master"))
            try await lab.start("leaf", LocalServerOptions(replicaOf: "helper"))
            // The helper freezes (its replica's link stays up but nothing flows), then dies
            // while verify-sync waits for the token on the leaf.
            kill(helper.pid, SIGSTOP)
            let crash = Task {
                try await Task.sleep(for: .milliseconds(300))
                try await lab.crash("helper")
            }
            let report = try await SyncVerifier.verify(master: try await lab.replicationServer("master"),
                                                       replicas: [try await lab.replicationServer("leaf")],
                                                       options: SyncCheckOptions(timeout: .seconds(20)))
            try await crash.value
            let leaf = report.replicas[0]
            #expect(leaf.seenMicros == nil)
            #expect(leaf.link == "down" || leaf.link == "connect" || leaf.link == "connecting")
            #expect(leaf.problem?.contains("while waiting for the token") == true, "\(leaf.problem ?? "-")")
            #expect(!report.ok)
        }
    }

    @Test func aFrozenReplicaIsReportedWithinTheTimeout() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("ok", LocalServerOptions(replicaOf: "master"))
            let frozen = try await lab.start("frozen", LocalServerOptions(replicaOf: "master"))
            kill(frozen.pid, SIGSTOP)
            let report = try await SyncVerifier.verify(master: try await lab.replicationServer("master"),
                                                       replicas: [try await lab.replicationServer("ok"),
                                                                  try await lab.replicationServer("frozen")],
                                                       options: SyncCheckOptions(timeout: .seconds(1)))
            try await lab.crash("frozen")
            #expect(report.replicas[0].ok)
            #expect(!report.replicas[1].ok)
            #expect(report.replicas[1].problem?.contains("does not answer") == true, "\(report.replicas[1].problem ?? "-")")
        }
    }

    @Test func aLinkThatIsDownIsReportedWithoutWaiting() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r", LocalServerOptions(replicaOf: "master"))
            try await lab.start("leaf", LocalServerOptions(replicaOf: "r"))
            try await lab.crash("r")
            let report = try await SyncVerifier.verify(master: try await lab.replicationServer("master"),
                                                       replicas: [try await lab.replicationServer("leaf")],
                                                       options: SyncCheckOptions(timeout: .seconds(30)))
            #expect(report.replicas[0].link != "up")
            #expect(report.replicas[0].problem?.contains("link to its master") == true)
            #expect(!report.ok)
        }
    }

    @Test func treeWithAMasterThatDoesNotAnswer() async throws {
        try await withLab { lab in
            let master = try await lab.start("master")
            try await lab.start("h", LocalServerOptions(replicaOf: "master"))
            let leaf = try await lab.start("leaf", LocalServerOptions(replicaOf: "h"))
            try await lab.crash("master")
            let nodes = try await ReplicationTree.discover(from: try await lab.replicationServer("leaf"))
            #expect(nodes.map(\.depth) == [0, 1, 2])
            #expect(nodes[0].role == "unreachable" && nodes[0].endpoint == master.endpoint && nodes[0].problem != nil)
            #expect(nodes[1].link == "down")
            #expect(nodes[2].isOrigin && nodes[2].endpoint == leaf.endpoint && nodes[2].link == "up")
        }
    }

    @Test func treeShowsEveryLevelFromTheMiddle() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("h1", LocalServerOptions(replicaOf: "master"))
            try await lab.start("h2", LocalServerOptions(replicaOf: "master"))
            let leaf = try await lab.start("leaf", LocalServerOptions(replicaOf: "h1"))
            try await lab.start("deep", LocalServerOptions(replicaOf: "leaf"))
            let nodes = try await ReplicationTree.discover(from: try await lab.replicationServer("leaf"))
            #expect(nodes.count == 5)
            #expect(nodes[0].role == "master" && nodes[0].depth == 0)
            #expect(nodes.map(\.depth).sorted() == [0, 1, 1, 2, 3])
            let origin = try #require(nodes.first { $0.isOrigin })
            #expect(origin.endpoint == leaf.endpoint)
            #expect(origin.depth == 2)
            // Depth first: the deep replica comes right after the leaf, drawn one level in.
            let index = try #require(nodes.firstIndex { $0.isOrigin })
            #expect(nodes[index + 1].depth == 3)
            #expect(nodes[index + 1].treePrefix.hasSuffix("└─ "))
            // (A master may list a just-linked replica as wait_bgsave or send_bulk for a moment.)
            #expect(nodes.dropFirst().allSatisfy { $0.link == "up" && $0.lagBytes != nil && $0.state != nil })
        }
    }
}
