import ArgumentParser
import Foundation
import Operations

/// The language must not be the bottleneck: a script of 100,000 plain SET statements,
/// run by the release `redkeep`, against `redis-benchmark -c 1 -t set -n 100000`, both
/// pinned to the same CPU; and the time from start to a ready prompt.
struct InterpreterBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpreter",
        abstract: "A 100,000-SET script against redis-benchmark -c 1 (goal >= 80%), and start-up time (goal < 50 ms).")

    @Option(help: "SET statements in the script.") var statements = 100_000
    @Option(help: "Rounds; medians are reported.") var rounds = 5
    @Option(help: "CPU both clients are pinned to.") var clientCPU = 1
    @Option(help: "CPU the server is pinned to.") var serverCPU = 0
    @Option(help: "The redkeep binary (default: next to this benchmark).") var redkeep: String?

    mutating func run() async throws {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let binary = redkeep ?? (me as NSString).deletingLastPathComponent + "/redkeep"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) is missing: swift build -c release --product redkeep")
        }
        let lab = try Lab()
        do {
            try await measure(lab, binary: binary)
            await lab.shutdown()
        } catch {
            await lab.shutdown()
            throw error
        }
    }

    private func measure(_ lab: Lab, binary: String) async throws {
        let server = try await lab.start("bench", LocalServerOptions(config: [("save", "")]))
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let script = lab.root + "/sets.rk"
        try String(repeating: "SET key:__rand_int__ xxx\n", count: statements).write(toFile: script, atomically: true, encoding: .utf8)
        print("Interpreter: a script of \(grouped(Double(statements))) SET statements vs redis-benchmark -c 1 -t set, both on CPU \(clientCPU), \(rounds) rounds (median)")
        var ours: [Double] = [], reference: [Double] = []
        for _ in 0..<rounds {
            let rb = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1",
                                                               "-p", String(server.port), "-c", "1", "-n", String(statements), "-t", "set", "--csv"])
            reference.append(try ClientBenchmark.redisBenchmarkRate(rb.output))
            let clock = ContinuousClock()
            let start = clock.now
            // Whole-process time: start-up, parsing the script and running it all count.
            let run = try await ExternalCommand.run("sh", ["-c", "taskset -c \(clientCPU) '\(binary)' --port \(server.port) '\(script)' > /dev/null"])
            let elapsed = clock.now - start
            guard run.succeeded else { throw ValidationError("redkeep failed: \(run.output.prefix(400))") }
            ours.append(Double(statements) / seconds(elapsed))
        }
        let ratio = median(ours) / median(reference)
        print("  script of SETs              redkeep \(grouped(median(ours)))/s   redis-benchmark \(grouped(median(reference)))/s   ratio \(fixed(ratio))  \(verdict(ratio, goal: 0.8))")
        print("      rounds: redkeep \(ours.map { grouped($0) }.joined(separator: " ")); redis-benchmark \(reference.map { grouped($0) }.joined(separator: " "))")

        // Start-up: a prompt session (on a pseudo-terminal, through script(1)) that exits at
        // once; and -c with one statement. Both include process start and exit.
        var prompt: [Double] = [], command: [Double] = []
        for _ in 0..<max(rounds, 11) {
            prompt.append(try timeMilliseconds("printf 'exit\\n' | REDKEEP_HISTFILE= script -qec '\(binary)' /dev/null > /dev/null"))
            command.append(try timeMilliseconds("'\(binary)' -c 'echo ready' > /dev/null"))
        }
        let startGoal = median(prompt) < 50 ? "meets goal < 50 ms" : "ABOVE goal < 50 ms"
        print("  start to prompt and exit    \(fixed(median(prompt), 1)) ms  \(startGoal)   (redkeep -c 'echo ready': \(fixed(median(command), 1)) ms)")
    }

    private func timeMilliseconds(_ shell: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shell]
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        process.waitUntilExit()
        return seconds(clock.now - start) * 1000
    }
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
