import Foundation
import Operations
import RESP
import RedisClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--timeout` bounds a whole failover: a frozen server (SIGSTOP: its kernel still accepts
/// TCP connections, nothing answers) makes the command fail at the deadline, naming the
/// server, with the undo steps still run. The elapsed-time checks are bounds on a hang
/// (the timeout plus the undo bound plus generous slack for a loaded machine), not speed
/// assertions: before the deadline was threaded through, these took 30 s (promote),
/// 10 s (sentinel) and 22 s (replace).
@Suite struct ReplicationDeadlineTests {
    /// The slack past `--timeout` a failed failover may take: the undo bound, reading the
    /// servers' final states, and scheduling delays on a busy machine.
    static let slack: Duration = .seconds(4)

    @Test func promoteWithAReplicaFrozenMidFailoverStopsAtTheDeadlineAndUnpausesTheMaster() async throws {
        try await withLab { lab in
            let master = try await lab.start("master")
            let r1 = try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            defer { kill(r1.pid, SIGCONT) }
            // As the shell passes it: with its own open connection (30 s command timeout).
            var replica = try await lab.replicationServer("r1")
            let shellConnection = try await lab.connect("r1")
            replica.connection = shellConnection
            // Step 0 pauses the master's writes; r1 freezes before step 1 waits for its offset.
            let options = FailoverOptions(timeout: .seconds(3), beforeStep: { index, _ in
                if index == 1 { kill(r1.pid, SIGSTOP) }
            })
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await Failover.promote(replica, others: [], known: [try await lab.replicationServer("master")],
                                               options: options)
                Issue.record("a failover whose replica is frozen succeeded")
            } catch let error as ReplicationError {
                let elapsed = clock.now - started
                #expect(elapsed < .seconds(3) + Self.slack, "took \(elapsed)")
                #expect(error.message.contains("r1 (\(r1.endpoint))"), "\(error.message)")
                #expect(error.message.contains("wait until r1"), "the step is named: \(error.message)")
                #expect(error.message.contains("undone: pause writes"), "\(error.message)")
                #expect(error.kind == .stopped)
                #expect(error.failover?.steps.contains { $0.title.hasPrefix("undo: pause writes") && $0.status == .done } == true)
            }
            kill(r1.pid, SIGCONT)
            // The old master takes writes again (or refuses them with READONLY): never held.
            var bounded = master.connectionConfiguration
            bounded.commandTimeout = .seconds(2)
            let writer = try await RedisConnection.connect(bounded)
            let reply = try await writer.reply(to: ["SET", "after-the-failover", "1"])
            #expect(reply.errorMessage == nil || reply.errorMessage?.hasPrefix("READONLY") == true,
                    "\(reply.errorMessage ?? "")")
            #expect(try await writer.replicationState().roleName == "master")
            await writer.close()
            await shellConnection.close()
        }
    }

    @Test func promoteOfAFrozenReplicaFailsAtTheDeadlineNamingIt() async throws {
        try await withLab { lab in
            try await lab.start("master")
            let r1 = try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            defer { kill(r1.pid, SIGCONT) }
            var replica = try await lab.replicationServer("r1")
            let shellConnection = try await lab.connect("r1")
            replica.connection = shellConnection
            kill(r1.pid, SIGSTOP)
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await Failover.promote(replica, others: [], options: FailoverOptions(timeout: .seconds(3)))
                Issue.record("promoted a frozen replica")
            } catch let error as ReplicationError {
                let elapsed = clock.now - started
                #expect(elapsed < .seconds(3) + Self.slack, "took \(elapsed)")
                #expect(error.message.contains("r1 (\(r1.endpoint))"), "\(error.message)")
                #expect(error.message.contains("does not answer"), "\(error.message)")
            }
            kill(r1.pid, SIGCONT)
            // Nothing was changed: r1 is still a replica.
            #expect(try await shellConnection.replicationState().isReplica)
            await shellConnection.close()
        }
    }

    @Test func sentinelFailoverWithAFrozenSentinelEndsAtTheDeadline() async throws {
        try await withLab { lab in
            // A master with no replica: Sentinel could never fail it over.
            try await lab.start("master")
            var sentinelOptions = LocalServerOptions()
            sentinelOptions.sentinel = SentinelOptions(monitor: "master")
            let s1 = try await lab.start("s1", sentinelOptions)
            defer { kill(s1.pid, SIGCONT) }
            let sentinel = ReplicationServer(name: s1.endpoint.description, configuration: RedisConnectionConfiguration(endpoint: s1.endpoint))
            // Sentinel answers which master it monitors, then freezes while redkeep waits for a replica.
            let options = FailoverOptions(timeout: .seconds(1), beforeStep: { index, _ in
                if index == 0 { kill(s1.pid, SIGSTOP) }
            })
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await Failover.viaSentinel(sentinel, masterName: "master",
                                                   known: [try await lab.replicationServer("master")], options: options)
                Issue.record("a Sentinel failover with no replica succeeded")
            } catch let error as ReplicationError {
                let elapsed = clock.now - started
                #expect(elapsed < .seconds(1) + Self.slack, "took \(elapsed)")
                #expect(error.message.contains(s1.endpoint.description), "\(error.message)")
                #expect(error.message.contains("SENTINEL REPLICAS"), "the step is named: \(error.message)")
            }
            kill(s1.pid, SIGCONT)
        }
    }

    @Test func replaceWithTheNewMasterFrozenMidCopyStopsAtTheDeadlineAndUndoesTheRest() async throws {
        try await withLab { lab in
            try await lab.start("a")
            try await lab.start("b", LocalServerOptions(replicaOf: "a"))
            let c = try await lab.start("c")
            defer { kill(c.pid, SIGCONT) }
            // b holds data (a known replication offset) before a is lost.
            let writer = try await lab.connect("a")
            for i in 0..<20 { _ = try await writer.send(["SET", .string("k\(i)"), "v"]) }
            _ = try await writer.send(["WAIT", "1", "5000"])
            await writer.close()
            try await lab.crash("a")
            // Steps: 0 b detaches, 1 c copies b by REPLICAOF, 2 wait for c's copy: c freezes there.
            let options = FailoverOptions(timeout: .seconds(2), beforeStep: { index, _ in
                if index == 2 { kill(c.pid, SIGSTOP) }
            })
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await Failover.replace(master: try await lab.replicationServer("a"),
                                               with: try await lab.replicationServer("c"),
                                               from: try await lab.replicationServer("b"), lab: nil, options: options)
                Issue.record("a replace whose new master is frozen succeeded")
            } catch let error as ReplicationError {
                let elapsed = clock.now - started
                // Two steps to undo, 1 s each at most (the one on frozen c uses its whole bound).
                #expect(elapsed < .seconds(2) + .seconds(2) + Self.slack, "took \(elapsed)")
                #expect(error.failover?.steps.contains { $0.title.hasPrefix("undo: detach") && $0.status == .done } == true)
                #expect(error.message.contains("c (\(c.endpoint))"), "\(error.message)")
                #expect(error.message.contains("wait until c"), "the step is named: \(error.message)")
                #expect(error.message.contains("undone: detach from the lost master"), "\(error.message)")
            }
            kill(c.pid, SIGCONT)
            // b is back to following the lost master, as before the failover.
            let b = try await lab.connect("b")
            #expect(try await b.replicationState().isReplica)
            await b.close()
        }
    }

    @Test func timeoutOutsideItsRangeIsRefusedBeforeAnythingIsTouched() async throws {
        try await withLab { lab in
            try await lab.start("master")
            try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
            let replica = try await lab.replicationServer("r1")
            for timeout in [Duration.milliseconds(50), .seconds(7200)] {
                do {
                    _ = try await Failover.promote(replica, others: [], options: FailoverOptions(timeout: timeout))
                    Issue.record("failover ran with --timeout \(timeout)")
                } catch let error as ReplicationError {
                    #expect(error.message.contains("--timeout"), "\(error.message)")
                    #expect(error.message.contains("100ms to 1h"), "\(error.message)")
                    #expect(error.kind == .invalidRequest)
                }
                do {
                    _ = try await SyncVerifier.verify(master: try await lab.replicationServer("master"), replicas: [replica],
                                                      options: SyncCheckOptions(timeout: timeout))
                    Issue.record("verify-sync ran with --timeout \(timeout)")
                } catch let error as ReplicationError {
                    #expect(error.message.contains("100ms to 1h"), "\(error.message)")
                    #expect(error.kind == .invalidRequest)
                }
            }
            let r1 = try await lab.connect("r1")
            #expect(try await r1.replicationState().isReplica)
            await r1.close()
        }
    }
}
