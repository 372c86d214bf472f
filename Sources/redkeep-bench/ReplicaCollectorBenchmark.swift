import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// The replica collector (`chunk run --replica`) against an ordinary replica:
/// 1. impact: `redis-benchmark -c 50 -t set,incr` against a master with, in alternating
///    rounds, a redis-server replica attached or the collector (its own `redkeep` process)
///    attached (goal: with the collector >= 98% of with the replica);
/// 2. cost and lag while the master takes about 10 MB/s of writes: the collector's CPU time
///    from /proc/PID/stat (goal: < 10% of one core), and its lag, sampled every 20 ms as the
///    time since the master's offset reached the offset the collector acknowledges (what is
///    archived) (goal: p99 < 1 s).
struct ReplicaCollectorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Replica collector impact vs a redis-server replica (>= 98%), its CPU at 10 MB/s (< 10%) and lag p99 (< 1 s).")

    @Option(help: "Requests per redis-benchmark test.") var requests = 200_000
    @Option(help: "Rounds of each kind; medians are reported.") var rounds = 9
    @Option(help: "Seconds of 10 MB/s load for the CPU and lag measurement.") var seconds = 20
    @Option(help: "CPU the master is pinned to.") var serverCPU = 0
    @Option(help: "CPU redis-benchmark and the load are pinned to.") var clientCPU = 1

    /// The collector's options in both parts: `chunk` defaults, but for --rate (none).
    static let chunkOptions = "--interval 1s --chunk-size 4MB --rate 0"

    mutating func run() async throws {
        guard ExternalCommand.find("redis-benchmark") != nil, ExternalCommand.find("taskset") != nil else {
            throw ValidationError("the replica benchmark needs redis-benchmark (apt-get install redis-tools) and taskset (util-linux)")
        }
        try await withLab { lab in
            try await impact(lab)
            print()
            try await cost(lab)
        }
    }

    static func masterOptions() -> LocalServerOptions {
        LocalServerOptions(appendOnly: false, config: [("save", ""), ("repl-diskless-sync", "yes"), ("repl-diskless-sync-delay", "0")])
    }

    /// `redkeep chunk run --replica` of the master on `port` as a child process.
    static func startCollector(port: Int, archive: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CollectorLoad.redkeep())
        process.arguments = ["-c", "connect s 127.0.0.1:\(port); chunk run --replica --archive \(archive) \(chunkOptions)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func stop(_ process: Process) {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// Waits (at most 60 s) until the master has `count` replicas online.
    static func waitOnline(_ master: RedisConnection, count: Int) async throws {
        for _ in 0..<1200 {
            let info = try await master.info("replication")
            let online = (0..<(info.int("connected_slaves") ?? 0)).filter { info.string("slave\($0)")?.contains("state=online") == true }.count
            if online == count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("the master did not have \(count) replica(s) online within 60 s")
    }

    private func impact(_ lab: Lab) async throws {
        let master = try await lab.start("impact", Self.masterOptions())
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(master.pid)])
        let control = try await lab.connect("impact")
        print("Replica collector impact: redis-benchmark -c 50 -t set,incr -n \(grouped(Double(requests))) on \(lab.binary) (no persistence, diskless sync), master on CPU \(serverCPU), redis-benchmark on CPU \(clientCPU); rounds alternating a redis-server replica and `redkeep chunk run --replica \(Self.chunkOptions)` attached; \(rounds) rounds each (median)")
        var replica: [String: [Double]] = [:], collector: [String: [Double]] = [:]
        for round in 0..<rounds {
            for collecting in [false, true] {
                _ = try await control.send(RESPCommand("FLUSHALL"))
                let archive = try CollectorBenchmark.temporaryFolder("replica-archive")
                var process: Process?
                let name = "replica-\(round)"
                if collecting {
                    process = try Self.startCollector(port: master.port, archive: archive)
                } else {
                    _ = try await lab.start(name, LocalServerOptions(replicaOf: "impact", config: [("save", "")]))
                }
                try await Self.waitOnline(control, count: 1)
                let rb = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1", "-p", String(master.port),
                                                                   "-c", "50", "-n", String(requests), "-t", "set,incr", "--csv"])
                for (test, rate) in CollectorBenchmark.rates(rb.output) {
                    if collecting { collector[test, default: []].append(rate) } else { replica[test, default: []].append(rate) }
                }
                if let process { Self.stop(process) } else { try await lab.stop(name) }
                try await Self.waitOnline(control, count: 0)
                try? FileManager.default.removeItem(atPath: archive)
            }
        }
        for test in replica.keys.sorted() {
            let a = median(replica[test] ?? []), b = median(collector[test] ?? [])
            let ratio = b / a
            print("  \(test.padding(toLength: 6, withPad: " ", startingAt: 0)) with collector \(grouped(b))/s   with replica \(grouped(a))/s   ratio \(fixed(ratio, 3))  \(verdict(ratio, goal: 0.98))")
            print("      rounds: collector \((collector[test] ?? []).map { grouped($0) }.joined(separator: " ")); replica \((replica[test] ?? []).map { grouped($0) }.joined(separator: " "))")
        }
        await control.close()
    }

    private func cost(_ lab: Lab) async throws {
        let master = try await lab.start("cost", Self.masterOptions())
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(master.pid)])
        let control = try await lab.connect("cost")
        let archive = try CollectorBenchmark.temporaryFolder("replica-cost")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let process = try Self.startCollector(port: master.port, archive: archive)
        defer { Self.stop(process) }
        try await Self.waitOnline(control, count: 1)
        let load = CollectorLoad.start(master.connectionConfiguration, seconds: seconds)
        let cpuBefore = try CollectorBenchmark.cpuSeconds(process.processIdentifier)
        let started = Date()
        // (time, master offset) samples, and the lag of the acknowledged offset at each.
        var reached: [(at: Double, offset: Int)] = []
        var lags: [Double] = []
        while Date().timeIntervalSince(started) < Double(seconds) {
            let info = try await control.info("replication")
            let now = Date().timeIntervalSince1970
            guard let offset = info.int("master_repl_offset") else { throw ValidationError("the master's INFO has no master_repl_offset") }
            reached.append((now, offset))
            if let acked = Self.replicaOffset(info.string("slave0")) {
                // Everything up to `acked` is archived; the oldest byte not archived was
                // there at the first sample past it (20 ms sampling: up to 20 ms short).
                let pending = reached.first(where: { $0.offset > acked })
                lags.append(pending.map { max(0, now - $0.at) } ?? 0)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let batches = try await load.value
        let wall = Date().timeIntervalSince(started)
        let cpuAfter = try CollectorBenchmark.cpuSeconds(process.processIdentifier)
        let cpuShare = (cpuAfter - cpuBefore) / wall
        let rate = Double((reached.last?.offset ?? 0) - (reached.first?.offset ?? 0)) / max(0.001, (reached.last?.at ?? 0) - (reached.first?.at ?? 0))
        let sorted = lags.sorted()
        let p99 = sorted.isEmpty ? Double.nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        print("Replica collector cost: `redkeep chunk run --replica \(Self.chunkOptions)` as its own process; load 100 x SET 1KB every 10 ms for \(seconds) s (\(batches) batches)")
        print("  replication stream \(fixed(rate / 1e6)) MB/s   collector CPU \(fixed(cpuShare * 100)) % of one core  \(cpuShare < 0.10 ? "meets goal < 10%" : "ABOVE goal < 10%")")
        print("  lag of the archived (acknowledged) offset, sampled every 20 ms: median \(fixed(median(lags), 3)) s, p99 \(fixed(p99, 3)) s, max \(fixed(sorted.last ?? .nan, 3)) s over \(lags.count) samples  \(p99 < 1 ? "meets goal p99 < 1 s" : "ABOVE goal p99 < 1 s")")
        await control.close()
    }

    /// The `offset=` of a `slave0:ip=...,offset=N,lag=...` line.
    static func replicaOffset(_ line: String?) -> Int? {
        guard let line else { return nil }
        for field in line.split(separator: ",") where field.hasPrefix("offset=") { return Int(field.dropFirst(7)) }
        return nil
    }
}
