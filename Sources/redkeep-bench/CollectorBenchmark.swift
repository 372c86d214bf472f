import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// The roll-forward collector's cost to the live server and its own cost:
/// 1. `redis-benchmark -c 50 -t set,incr -n 1000000` against a server with AOF, rounds
///    alternating without and with a collector running in this process at --interval 1s
///    (goal: with >= 98% of without);
/// 2. the collector as its own `redkeep ... chunk run` process while the AOF grows at about
///    10 MB/s: its CPU time from /proc/PID/stat (goal: < 5% of one core), and the archive's
///    lag behind the live AOF (goal: <= interval + pause per chunk).
struct CollectorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collector",
        abstract: "Collector impact on redis-benchmark (goal >= 98%), its CPU at 10 MB/s (< 5%) and its lag.")

    @Option(help: "Requests per redis-benchmark test.") var requests = 1_000_000
    @Option(help: "Rounds; medians are reported.") var rounds = 3
    @Option(help: "Seconds of 10 MB/s load for the CPU and lag measurement.") var seconds = 20
    @Option(help: "CPU the server is pinned to.") var serverCPU = 0
    @Option(help: "CPU redis-benchmark and the load are pinned to.") var clientCPU = 1

    mutating func run() async throws {
        guard ExternalCommand.find("redis-benchmark") != nil, ExternalCommand.find("taskset") != nil else {
            throw ValidationError("the collector benchmark needs redis-benchmark (apt-get install redis-tools) and taskset (util-linux)")
        }
        // withLab stops the servers however the measurement ends.
        try await withLab { lab in
            try await impact(lab)
            print()
            try await cost(lab)
        }
    }

    static func temporaryFolder(_ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "redkeep-bench-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static func aofOptions() -> LocalServerOptions {
        LocalServerOptions(appendOnly: true, config: [("save", ""), ("auto-aof-rewrite-percentage", "0"), ("appendfsync", "everysec")])
    }

    /// redis-benchmark's rps for each test of its `--csv` output.
    static func rates(_ output: String) -> [String: Double] {
        var rates: [String: Double] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("\"") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rate = Double(fields[1]) { rates[fields[0]] = rate }
        }
        return rates
    }

    private func impact(_ lab: Lab) async throws {
        let server = try await lab.start("impact", Self.aofOptions())
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let control = try await lab.connect("impact")
        print("Collector impact: redis-benchmark -c 50 -t set,incr -n \(grouped(Double(requests))) on \(lab.binary) (AOF, appendfsync everysec), server on CPU \(serverCPU), redis-benchmark on CPU \(clientCPU); collector in this process at --interval 1s --chunk-size 4MB --pause 100ms --rate 50MB/s; \(rounds) rounds alternating (median)")
        var without: [String: [Double]] = [:], with: [String: [Double]] = [:]
        var copied: [Int] = []
        for _ in 0..<rounds {
            for collecting in [false, true] {
                // Each round starts from a small AOF, so rounds are alike.
                _ = try await control.send(RESPCommand("FLUSHALL"))
                _ = try await control.send(RESPCommand("BGREWRITEAOF"))
                try await Self.waitForRewrite(control)
                var collector: Collector?
                var task: Task<Void, Never>?
                let archive = try Self.temporaryFolder("archive")
                if collecting {
                    let c = try await Collector.open(name: "bench", source: server.connectionConfiguration, options: CollectorOptions(archive: archive))
                    collector = c
                    task = Task.detached { await c.run() }
                }
                let rb = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1", "-p", String(server.port),
                                                                   "-c", "50", "-n", String(requests), "-t", "set,incr", "--csv"])
                for (test, rate) in Self.rates(rb.output) {
                    if collecting { with[test, default: []].append(rate) } else { without[test, default: []].append(rate) }
                }
                if let collector, let task {
                    collector.requestStop()
                    await task.value
                    copied.append(collector.status().bytesCopied)
                }
                try? FileManager.default.removeItem(atPath: archive)
            }
        }
        for test in without.keys.sorted() {
            let a = median(without[test] ?? []), b = median(with[test] ?? [])
            let ratio = b / a
            print("  \(test.padding(toLength: 6, withPad: " ", startingAt: 0)) with collector \(grouped(b))/s   without \(grouped(a))/s   ratio \(fixed(ratio, 3))  \(verdict(ratio, goal: 0.98))")
            print("      rounds: with \((with[test] ?? []).map { grouped($0) }.joined(separator: " ")); without \((without[test] ?? []).map { grouped($0) }.joined(separator: " "))")
        }
        print("  archived per round: \(copied.map { megabytes($0) }.joined(separator: " "))")
        await control.close()
    }

    private func cost(_ lab: Lab) async throws {
        let server = try await lab.start("cost", Self.aofOptions())
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let redkeep = try CollectorLoad.redkeep()
        let archive = try Self.temporaryFolder("cost")
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let interval = 1.0, pause = 0.1, chunk = 4 << 20
        let process = Process()
        process.executableURL = URL(fileURLWithPath: redkeep)
        process.arguments = ["-c", "connect s 127.0.0.1:\(server.port); chunk run --archive \(archive) --interval 1s --pause 100ms --chunk-size 4MB --rate 50MB/s"]
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: .seconds(1))
        let aofFolder = server.directory + "/appendonlydir"
        let manifest = try AOFManifestFile.currentIncr(aofFolder)
        let load = CollectorLoad.start(server.connectionConfiguration, seconds: seconds)
        let cpuBefore = try Self.cpuSeconds(process.processIdentifier)
        let started = Date()
        var sizes: [(Double, Int)] = []
        while true {
            let now = Date().timeIntervalSince1970
            var st = stat()
            if stat(aofFolder + "/" + manifest, &st) == 0 { sizes.append((now, Int(st.st_size))) }
            if Date().timeIntervalSince(started) > Double(seconds) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = try await load.value
        let wall = Date().timeIntervalSince(started)
        let cpuAfter = try Self.cpuSeconds(process.processIdentifier)
        try await Task.sleep(for: .seconds(2))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        let cpuShare = (cpuAfter - cpuBefore) / wall
        let grown = Double((sizes.last?.1 ?? 0) - (sizes.first?.1 ?? 0)) / max(0.001, (sizes.last?.0 ?? 0) - (sizes.first?.0 ?? 0))
        print("Collector cost: redkeep chunk run --interval 1s --pause 100ms --chunk-size 4MB --rate 50MB/s as its own process; load 100 x SET 1KB every 10 ms for \(seconds) s")
        print("  AOF growth \(fixed(grown / 1e6)) MB/s   collector CPU \(fixed(cpuShare * 100)) % of one core  \(cpuShare < 0.05 ? "meets goal < 5%" : "ABOVE goal < 5%")")

        // Lag: for each chunk, from the moment the live file reached the chunk's end to the
        // moment the chunk was archived.
        let index = try ArchiveIndex.read(archive)
        guard let stream = index.streams.last(where: { $0.sourceFile == manifest }) else { throw ValidationError("the archive has no stream for \(manifest)") }
        var lags: [Double] = []
        var perInterval = 0
        for c in index.chunks(of: stream.stream) {
            guard let reached = sizes.first(where: { $0.1 >= c.end }) else { continue }
            lags.append(max(0, c.copiedAt - reached.0))
        }
        perInterval = Int((grown * interval / Double(chunk)).rounded(.up))
        let bound = interval + pause * Double(max(1, perInterval))
        let worst = lags.max() ?? .nan
        print("  lag per chunk: median \(fixed(median(lags), 3)) s, max \(fixed(worst, 3)) s over \(lags.count) chunks; bound interval + pause x chunks per interval = \(fixed(bound, 2)) s  \(worst <= bound ? "meets goal" : "ABOVE goal")")
    }

    static func waitForRewrite(_ connection: RedisConnection) async throws {
        for _ in 0..<1200 {
            try await Task.sleep(for: .milliseconds(50))
            let info = try await connection.info("persistence")
            if info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { return }
        }
        throw ValidationError("BGREWRITEAOF did not finish within 60 s")
    }

    /// utime + stime of a process, in seconds, from /proc/PID/stat.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else {
            throw ValidationError("cannot read /proc/\(pid)/stat")
        }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 3, utime 14, stime 15 (1-based), so 11 and 12 here.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw ValidationError("cannot parse /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// The current incr file of a Redis 7 AOF folder.
enum AOFManifestFile {
    static func currentIncr(_ folder: String) throws -> String {
        let text = try String(contentsOfFile: folder + "/appendonly.aof.manifest", encoding: .utf8)
        for line in text.split(separator: "\n").reversed() where line.hasSuffix("type i") {
            let words = line.split(separator: " ")
            if words.count > 1 { return String(words[1]) }
        }
        throw ValidationError("no incr file in \(folder)/appendonly.aof.manifest")
    }
}

/// `12.3MB`.
func megabytes(_ bytes: Int) -> String { fixed(Double(bytes) / 1e6, 1) + "MB" }
