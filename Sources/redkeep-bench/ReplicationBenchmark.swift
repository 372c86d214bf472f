import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient
import Synchronization

/// verify-sync on an idle local master/replica pair against the book's wait_for_sync
/// (listing 4.3: poll every millisecond), and `failover --promote` under a write load
/// against Redis's own `FAILOVER TO`, alternating in the same run.
struct ReplicationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replication",
        abstract: "verify-sync latency (goal: median < 5 ms) and failover --promote under load (goal: < 2 s, no acknowledged write lost).")

    @Option(help: "verify-sync runs per round.") var checks = 200
    @Option(help: "Rounds of verify-sync; medians are reported.") var rounds = 5
    @Option(help: "Failovers of each kind.") var failovers = 20

    mutating func run() async throws {
        // withLab stops the servers however the measurement ends.
        try await withLab { lab in
            try await verifySync(lab)
            print()
            try await failover(lab)
        }
    }

    // MARK: - verify-sync

    private func verifySync(_ lab: Lab) async throws {
        let m = try await lab.start("vs-master", LocalServerOptions(config: [("save", "")]))
        let r = try await lab.start("vs-replica", LocalServerOptions(replicaOf: "vs-master", config: [("save", "")]))
        // Replies bounded by verify-sync's own timeout (5 s), so it keeps these connections.
        var mConfig = m.connectionConfiguration, rConfig = r.connectionConfiguration
        mConfig.commandTimeout = .seconds(5)
        rConfig.commandTimeout = .seconds(5)
        let mc = try await RedisConnection.connect(mConfig)
        let rc = try await RedisConnection.connect(rConfig)
        let master = ReplicationServer(name: "master", configuration: mConfig, connection: mc)
        let replica = ReplicationServer(name: "replica", configuration: rConfig, connection: rc)
        print("verify-sync: idle local master/replica pair on \(lab.binary), \(checks) checks per round, \(rounds) rounds (median of medians)")
        var ours: [Double] = [], book: [Double] = []
        for _ in 0..<rounds {
            var a: [Double] = [], b: [Double] = []
            for _ in 0..<checks {
                let clock = ContinuousClock()
                let start = clock.now
                let report = try await SyncVerifier.verify(master: master, replicas: [replica])
                guard report.ok else { throw ValidationError("verify-sync failed: \(report.replicas[0].problem ?? "?")") }
                a.append((clock.now - start).inMilliseconds)
                let s2 = clock.now
                try await Self.bookWaitForSync(mc, rc)
                b.append((clock.now - s2).inMilliseconds)
            }
            ours.append(median(a)); book.append(median(b))
        }
        let ratio = median(book) / median(ours)
        print("  verify-sync        redkeep \(fixed(median(ours), 3)) ms   book's wait_for_sync \(fixed(median(book), 3)) ms   speed-up \(fixed(ratio))x   goal median < 5 ms: \(median(ours) < 5 ? "met" : "NOT MET")")
        print("      rounds: redkeep \(ours.map { fixed($0, 3) }.joined(separator: " ")); book \(book.map { fixed($0, 3) }.joined(separator: " "))")
        await mc.close(); await rc.close()
        try await lab.stop("vs-master"); try await lab.stop("vs-replica")
    }

    /// Listing 4.3 with its first loop fixed (wait while the link is not up), no fsync wait:
    /// ZADD a token, poll every millisecond until the replica has it, clean up.
    static func bookWaitForSync(_ master: RedisConnection, _ replica: RedisConnection) async throws {
        let token = UUID().uuidString
        _ = try await master.send(["ZADD", "sync:wait", .string(String(Date().timeIntervalSince1970)), .string(token)])
        while try await replica.replicationState().link != "up" { try await Task.sleep(for: .milliseconds(1)) }
        while case .null = try await replica.send(["ZSCORE", "sync:wait", .string(token)]) { try await Task.sleep(for: .milliseconds(1)) }
        _ = try await master.send(["ZREM", "sync:wait", .string(token)])
        _ = try await master.send(["ZREMRANGEBYSCORE", "sync:wait", "0", .string(String(Date().timeIntervalSince1970 - 900))])
    }

    // MARK: - failover under load

    private func failover(_ lab: Lab) async throws {
        let a = try await lab.start("fo-a", LocalServerOptions(config: [("save", "")]))
        let b = try await lab.start("fo-b", LocalServerOptions(replicaOf: "fo-a", config: [("save", "")]))
        let servers = [ReplicationServer(name: "fo-a", configuration: a.connectionConfiguration),
                       ReplicationServer(name: "fo-b", configuration: b.connectionConfiguration)]
        print("failover --promote: local pair, a client INCRs the master without pause, \(failovers) failovers each way, alternating with Redis's FAILOVER TO")
        var ours: [Double] = [], redis: [Double] = []
        var lostOurs = 0, lostRedis = 0, acknowledgedOurs = 0
        var master = 0
        var slowest: (Double, String)?
        for _ in 0..<failovers {
            for useRedis in [false, true] {
                let old = servers[master], new = servers[1 - master]
                let summary = Mutex<String>("")
                let (millis, lost, acked) = try await Self.underLoad(old: old, new: new) {
                    if useRedis {
                        try await Self.redisFailover(old: old, new: new)
                    } else {
                        let report = try await Failover.promote(new, others: [], known: servers)
                        guard report.completed else { throw ValidationError("failover did not complete:\n\(report.summary)") }
                        summary.withLock { $0 = report.summary }
                    }
                }
                if !useRedis, millis > (slowest?.0 ?? -1) { slowest = (millis, summary.withLock { $0 }) }
                if useRedis { redis.append(millis); lostRedis += lost } else { ours.append(millis); lostOurs += lost; acknowledgedOurs += acked }
                master = 1 - master
            }
        }
        let ratio = median(redis) / median(ours)
        print("  failover --promote redkeep \(fixed(median(ours), 1)) ms (max \(fixed(ours.max() ?? 0, 1)))   FAILOVER TO \(fixed(median(redis), 1)) ms (max \(fixed(redis.max() ?? 0, 1)))   ratio \(fixed(ratio))")
        print("      acknowledged writes lost: redkeep \(lostOurs) (of \(acknowledgedOurs) acknowledged during its runs), FAILOVER TO \(lostRedis)   goal < 2 s and none lost: \((ours.max() ?? 9e9) < 2000 && lostOurs == 0 ? "met" : "NOT MET")")
        print("      redkeep runs (ms): \(ours.map { fixed($0, 1) }.joined(separator: " "))")
        if let slowest { print("      the slowest redkeep run, step by step:\n" + slowest.1.split(separator: "\n").map { "        " + $0 }.joined(separator: "\n")) }
    }

    /// Runs `body` while a client INCRs `old` as fast as it can; returns the failover's time,
    /// how many acknowledged increments the new master lacks, and how many were acknowledged.
    static func underLoad(old: ReplicationServer, new: ReplicationServer, _ body: () async throws -> Void) async throws -> (Double, Int, Int) {
        let writer = try await RedisConnection.connect(old.configuration)
        let newConnection = try await RedisConnection.connect(new.configuration)
        let before = try await writer.send(["GET", "counter"]).string.flatMap(Int.init) ?? 0
        let last = Atomic<Int>(before)
        let load = Task {
            while !Task.isCancelled {
                guard let reply = try? await writer.reply(to: ["INCR", "counter"]), let n = reply.int else { return }
                last.store(n, ordering: .sequentiallyConsistent)
            }
        }
        try await Task.sleep(for: .milliseconds(30))
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let took = clock.now - start
        load.cancel()
        await load.value
        let acknowledged = last.load(ordering: .sequentiallyConsistent)
        let kept = try await newConnection.send(["GET", "counter"]).string.flatMap(Int.init) ?? 0
        await writer.close(); await newConnection.close()
        return (took.inMilliseconds,
                max(0, acknowledged - kept), acknowledged - before)
    }

    /// Redis's coordinated failover: FAILOVER TO on the master, then wait until both roles flipped.
    static func redisFailover(old: ReplicationServer, new: ReplicationServer) async throws {
        guard case .tcp(let host, let port) = new.endpoint else { return }
        let o = try await RedisConnection.connect(old.configuration)
        let n = try await RedisConnection.connect(new.configuration)
        _ = try await o.send(["FAILOVER", "TO", .string(host), .string(String(port)), "TIMEOUT", "5000"])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let newState = try await n.replicationState(), oldState = try await o.replicationState()
            if !newState.isReplica, oldState.isReplica, oldState.linkUp { break }
            try await Task.sleep(for: .milliseconds(1))
        }
        await o.close(); await n.close()
    }

}
