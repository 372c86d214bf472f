import ArgumentParser
import Foundation
import Operations

/// Section 4.5 and 4.6 of Redis in Action, measured: `redkeep benchmark update-token`
/// against the book's Python code (scripts/bench/update_token.py, redis-py) for the same
/// duration against the same server, and `redkeep benchmark commands -c 1` against
/// redis-benchmark -c 1, each pair pinned to the same CPU, alternating in the same run.
struct DemosBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demos",
        abstract: "update-token vs the book's redis-py code (goal >= 3x), benchmark commands -c 1 vs redis-benchmark (goal >= 80%).")

    @Option(help: "Seconds per update-token mode (both programs).") var duration = 3.0
    @Option(help: "Requests per test of benchmark commands.") var requests = 50_000
    @Option(help: "Rounds; medians are reported.") var rounds = 3
    @Option(help: "CPU both clients are pinned to.") var clientCPU = 1
    @Option(help: "CPU the server is pinned to.") var serverCPU = 0
    @Option(help: "The book's Python benchmark.") var pythonScript = "scripts/bench/update_token.py"
    @Option(help: "The redkeep binary (default: next to this benchmark).") var redkeep: String?

    mutating func run() async throws {
        let binary = try redkeepBinary(redkeep)
        guard FileManager.default.fileExists(atPath: pythonScript) else {
            throw ValidationError("\(pythonScript) is missing: run from the repository's root (scripts/bench/run does)")
        }
        // withLab stops the servers however the measurement ends.
        try await withLab { lab in
            try await measure(lab, binary: binary)
        }
    }

    private func measure(_ lab: Lab, binary: String) async throws {
        let server = try await lab.start("bench", LocalServerOptions(config: [("save", "")]))
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let seconds = String(duration)
        print("Demos: update_token for \(seconds) s per mode, redkeep vs the book's redis-py code; benchmark commands -c 1 -n \(grouped(Double(requests))) vs redis-benchmark -c 1; clients on CPU \(clientCPU), server on CPU \(serverCPU), \(rounds) rounds (median)")
        var python: [String: [Double]] = [:], ours: [String: [Double]] = [:]
        var shares: [Double] = [], perTest: [String: [Double]] = [:]
        for _ in 0..<rounds {
            let py = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "python3", pythonScript,
                                                               "--port", String(server.port), "--duration", seconds, "--json"])
            let pyResult = try Self.lastJSON(py.output, what: "update_token.py")
            for mode in ["plain", "pipeline"] { python[mode, default: []].append(pyResult[mode] as? Double ?? 0) }

            let rk = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), binary, "--port", String(server.port), "--json",
                                                               "-c", "benchmark update-token --duration \(seconds)s --modes plain,pipeline,multi"])
            let rkResult = try Self.lastJSON(rk.output, what: "redkeep benchmark update-token")
            for row in rkResult["modes"] as? [[String: Any]] ?? [] {
                if let mode = row["mode"] as? String, let rate = row["calls_per_s"] as? Double { ours[mode, default: []].append(rate) }
            }

            // The same two programs through the server's unix socket, where the kernel's
            // share of each round trip is smaller and the clients' own work shows more.
            let pyUnix = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "python3", pythonScript,
                                                                   "--unix-socket", server.unixSocket, "--duration", seconds, "--json"])
            let pyUnixResult = try Self.lastJSON(pyUnix.output, what: "update_token.py --unix-socket")
            for mode in ["plain", "pipeline"] { python[mode + " unix", default: []].append(pyUnixResult[mode] as? Double ?? 0) }
            let rkUnix = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), binary, "--port", String(server.port), "--json",
                                                                   "-c", "benchmark update-token --unix-socket --duration \(seconds)s --modes plain,pipeline"])
            for row in try Self.lastJSON(rkUnix.output, what: "redkeep benchmark update-token --unix-socket")["modes"] as? [[String: Any]] ?? [] {
                if let mode = row["mode"] as? String, let rate = row["calls_per_s"] as? Double { ours[mode + " unix", default: []].append(rate) }
            }

            let cmd = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), binary, "--port", String(server.port), "--json",
                                                                "-c", "benchmark commands -c 1 -n \(requests) --tests set,get,incr,lpush,lpop,sadd"])
            let cmdResult = try Self.lastJSON(cmd.output, what: "redkeep benchmark commands")
            var roundShares: [Double] = []
            for row in cmdResult["tests"] as? [[String: Any]] ?? [] {
                guard let test = row["test"] as? String, let mine = row["redkeep_per_s"] as? Double,
                      let theirs = row["redis_benchmark_per_s"] as? Double, theirs > 0 else { continue }
                perTest[test, default: []].append(mine / theirs)
                roundShares.append(mine / theirs)
            }
            guard !roundShares.isEmpty else { throw ValidationError("benchmark commands gave no share (is redis-benchmark installed?): \(cmd.output.suffix(400))") }
            shares.append(median(roundShares))
        }
        for mode in ["plain", "pipeline", "plain unix", "pipeline unix"] {
            let ratio = median(ours[mode] ?? []) / median(python[mode] ?? [])
            print("  update-token \(mode.padding(toLength: 13, withPad: " ", startingAt: 0))  redkeep \(grouped(median(ours[mode] ?? [])))/s   redis-py \(grouped(median(python[mode] ?? [])))/s   ratio \(fixed(ratio))  \(verdict(ratio, goal: 3.0))")
        }
        print("  update-token multi          redkeep \(grouped(median(ours["multi"] ?? [])))/s (redis-py's pipeline() default, no Python figure)")
        print("  commands -c 1, median share of redis-benchmark: \(fixed(median(shares)))  \(verdict(median(shares), goal: 0.8))")
        print("      per test: " + perTest.keys.sorted().map { "\($0) \(fixed(median(perTest[$0]!)))" }.joined(separator: ", "))
        for mode in ["plain", "plain unix"] {
            print("      rounds, \(mode): redkeep \(ours[mode]?.map { grouped($0) }.joined(separator: " ") ?? ""); redis-py \(python[mode]?.map { grouped($0) }.joined(separator: " ") ?? "")")
        }
    }

    /// The last line of `output` that is a JSON object.
    static func lastJSON(_ output: String, what: String) throws -> [String: Any] {
        for line in output.split(separator: "\n").reversed() where line.hasPrefix("{") {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] { return object }
        }
        throw ValidationError("\(what) gave no JSON result: \(output.suffix(500))")
    }
}
