import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Operations
import RedisClient

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
        let binary = try redkeepBinary(redkeep)
        // withLab stops the servers however the measurement ends.
        try await withLab { lab in
            try await measure(lab, binary: binary)
        }
    }

    private func measure(_ lab: Lab, binary: String) async throws {
        let server = try await lab.start("bench", LocalServerOptions(config: [("save", "")]))
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let script = lab.root + "/sets.rk"
        try String(repeating: "SET key:__rand_int__ xxx\n", count: statements).write(toFile: script, atomically: true, encoding: .utf8)
        print("Interpreter: a script of \(grouped(Double(statements))) SET statements vs redis-benchmark -c 1 -t set, both on CPU \(clientCPU), \(rounds) rounds (median)")
        var ours: [Double] = [], reference: [Double] = []
        for round in 0..<rounds {
            // Each round runs both, back to back, the first of them alternating: on a shared
            // machine the speed drifts between rounds, and each round's ratio compares two
            // runs made under the same conditions.
            if round % 2 == 1 { ours.append(try await runScript(binary, script: script, port: server.port)) }
            let rb = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1",
                                                               "-p", String(server.port), "-c", "1", "-n", String(statements), "-t", "set", "--csv"])
            reference.append(try ClientBenchmark.redisBenchmarkRate(rb.output))
            if round % 2 == 0 { ours.append(try await runScript(binary, script: script, port: server.port)) }
        }
        let ratios = zip(ours, reference).map { $0 / $1 }
        let ratio = median(ratios)
        print("  script of SETs              redkeep \(grouped(median(ours)))/s   redis-benchmark \(grouped(median(reference)))/s   ratio \(fixed(ratio))  \(verdict(ratio, goal: 0.8))")
        print("      ratio: median of the rounds' ratios; ratio of the medians \(fixed(median(ours) / median(reference)))")
        print("      rounds: redkeep \(ours.map { grouped($0) }.joined(separator: " ")); redis-benchmark \(reference.map { grouped($0) }.joined(separator: " "))")
        print("      ratios: \(ratios.map { fixed($0) }.joined(separator: " "))")

        // Start-up: from starting redkeep on a pseudo-terminal to its prompt appearing (what
        // a person waits for), and -c with one statement (start, run, exit).
        var prompt: [Double] = [], command: [Double] = []
        for _ in 0..<max(rounds, 11) {
            prompt.append(try millisecondsToPrompt(binary))
            command.append(try timeMilliseconds("'\(binary)' -c 'echo ready' > /dev/null"))
        }
        let startGoal = median(prompt) < 50 ? "meets goal < 50 ms" : "ABOVE goal < 50 ms"
        print("  start to prompt             \(fixed(median(prompt), 1)) ms  \(startGoal)   (redkeep -c 'echo ready', start to exit: \(fixed(median(command), 1)) ms)")
    }

    /// Runs the script once, pinned like redis-benchmark; returns statements per second of
    /// the whole process (start-up, parsing the script and running it all count).
    private func runScript(_ binary: String, script: String, port: Int) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let run = try await ExternalCommand.run("sh", ["-c", "taskset -c \(clientCPU) '\(binary)' --port \(port) '\(script)' > /dev/null"])
        let elapsed = clock.now - start
        guard run.succeeded else { throw ValidationError("redkeep failed: \(run.output.prefix(400))") }
        return Double(statements) / elapsed.inSeconds
    }

    /// Starts redkeep with a pseudo-terminal as its standard input and output (so it
    /// shows its interactive prompt) and times until `redkeep> ` arrives.
    private func millisecondsToPrompt(_ binary: String) throws -> Double {
        // posix_openpt and friends, looked up at run time: Glibc's module does not export them.
        typealias IntFunction = @convention(c) (Int32) -> Int32
        typealias NameFunction = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?
        func function<T>(_ name: String, _ type: T.Type) -> T { unsafeBitCast(dlsym(nil, name)!, to: type) }
        let master = function("posix_openpt", IntFunction.self)(O_RDWR | O_NOCTTY)
        guard master >= 0, function("grantpt", IntFunction.self)(master) == 0, function("unlockpt", IntFunction.self)(master) == 0,
              let name = function("ptsname", NameFunction.self)(master) else {
            throw ValidationError("cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        defer { close(master) }
        let slave = open(name, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw ValidationError("cannot open \(String(cString: name)): \(String(cString: strerror(errno)))") }
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.environment = ProcessInfo.processInfo.environment.merging(["REDKEEP_HISTFILE": "", "TERM": "xterm"]) { $1 }
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        var seen: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let needle = Array("redkeep> ".utf8)
        while clock.now - start < .seconds(10) {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else { continue }
            let n = read(master, &buffer, buffer.count)
            guard n > 0 else { break }
            seen += buffer[0..<n]
            if seen.count >= needle.count, (0...(seen.count - needle.count)).contains(where: { Array(seen[$0..<$0 + needle.count]) == needle }) {
                let elapsed = (clock.now - start).inSeconds * 1000
                _ = "exit\n".withCString { write(master, $0, 5) }
                process.waitUntilExit()
                return elapsed
            }
        }
        process.terminate()
        throw ValidationError("redkeep showed no prompt within 10 s; it printed: \(String(decoding: seen, as: UTF8.self).prefix(300))")
    }

    private func timeMilliseconds(_ shell: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", shell]
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        process.waitUntilExit()
        return (clock.now - start).inSeconds * 1000
    }
}

