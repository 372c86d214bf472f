import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// 100,000 SETs through redkeep's client, sequential and pipelined, against
/// `redis-benchmark -c 1` doing the same, both pinned to the same CPU with taskset and the
/// server pinned to another, alternating round by round in the same run.
struct ClientBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Client SET throughput against redis-benchmark -c 1 (goal: >= 80%).")

    @Option(help: "SETs per round.") var requests = 100_000
    @Option(help: "Commands per pipeline for the pipelined measurement.") var batch = 1000
    @Option(help: "Rounds; medians are reported.") var rounds = 5
    @Option(help: "CPU both clients are pinned to.") var clientCPU = 1
    @Option(help: "CPU the server is pinned to.") var serverCPU = 0
    @Flag(help: "Over TLS with client certificates: a Lab TLS server, redis-benchmark --tls against redkeep's TLS client.") var tls = false

    mutating func run() async throws {
        guard ExternalCommand.find("redis-benchmark") != nil, ExternalCommand.find("taskset") != nil else {
            throw ValidationError("the client benchmark needs redis-benchmark (apt-get install redis-tools) and taskset (util-linux)")
        }
        // withLab stops the servers however the measurement ends.
        try await withLab { lab in
            try await measure(lab)
        }
    }

    private func measure(_ lab: Lab) async throws {
        let server = try await lab.start("bench", LocalServerOptions(config: [("save", "")], tls: tls))
        // The same CA and client certificate for both clients.
        let tlsArguments = server.tls.map { ["--tls", "--cacert", $0.caFile, "--cert", $0.clientCertificateFile, "--key", $0.clientKeyFile] } ?? []
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        // The worker is this same program, run again under taskset.
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        print("Client\(tls ? " over TLS" : ""): \(grouped(Double(requests))) SET key:__rand_int__ xxx on \(lab.binary), server on CPU \(serverCPU), both clients on CPU \(clientCPU), \(rounds) rounds (median)")

        for (label, depth) in [("sequential (-c 1)", 1), ("pipelined (-c 1 -P \(batch))", batch)] {
            var reference: [Double] = [], ours: [Double] = []
            for _ in 0..<rounds {
                var args = ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1", "-p", String(server.port),
                            "-c", "1", "-n", String(requests), "-t", "set", "--csv"]
                if depth > 1 { args += ["-P", String(depth)] }
                args += tlsArguments
                let rb = try await ExternalCommand.run("taskset", args)
                reference.append(try Self.redisBenchmarkRate(rb.output))
                let worker = try await ExternalCommand.run("taskset", [
                    "-c", String(clientCPU), me, "client-worker", "--port", String(server.port),
                    "--requests", String(requests), "--batch", String(depth)] + tlsArguments)
                ours.append(try Self.workerRate(worker.output))
            }
            let ratio = median(ours) / median(reference)
            print("  \(label.padding(toLength: 28, withPad: " ", startingAt: 0)) redkeep \(grouped(median(ours)))/s   redis-benchmark \(grouped(median(reference)))/s   ratio \(fixed(ratio))  \(verdict(ratio, goal: 0.8))")
            print("      rounds: redkeep \(ours.map { grouped($0) }.joined(separator: " ")); redis-benchmark \(reference.map { grouped($0) }.joined(separator: " "))")
        }
    }

    /// The rps column of redis-benchmark's `--csv` line for SET.
    static func redisBenchmarkRate(_ output: String) throws -> Double {
        for line in output.split(separator: "\n") where line.hasPrefix("\"SET\"") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rate = Double(fields[1]) { return rate }
        }
        throw ValidationError("could not read redis-benchmark's result from: \(output.prefix(300))")
    }

    static func workerRate(_ output: String) throws -> Double {
        for line in output.split(separator: "\n") where line.hasPrefix("requests_per_second=") {
            if let rate = Double(line.dropFirst("requests_per_second=".count)) { return rate }
        }
        throw ValidationError("the client worker failed: \(output.prefix(500))")
    }
}

/// One measured run in its own process, so taskset can pin it like redis-benchmark.
struct ClientWorker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client-worker", abstract: "(internal) one pinned client run.", shouldDisplay: false)

    @Option var port: Int
    @Option var requests = 100_000
    @Option var batch = 1
    @Flag var tls = false
    @Option var cacert: String?
    @Option var cert: String?
    @Option var key: String?

    mutating func run() async throws {
        let (port, requests, batch) = (self.port, self.requests, self.batch)
        var configuration = RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port))
        if tls { configuration.tls = RedisTLSConfiguration(caFile: cacert, certificateFile: cert, keyFile: key) }
        let connection = try await RedisConnection.connect(configuration)
        // Sent from the connection's own loop, as a caller that cares about sequential
        // speed should (see EventLoopIsolation).
        let rate = try await EventLoopIsolation(connection.eventLoop).run { _ in
            let command: RESPCommand = ["SET", "key:__rand_int__", "xxx"]
            for _ in 0..<1000 { _ = try await connection.send(command) }  // warm-up
            let clock = ContinuousClock()
            let start = clock.now
            if batch <= 1 {
                for _ in 0..<requests { _ = try await connection.send(command) }
            } else {
                let commands = [RESPCommand](repeating: command, count: batch)
                var sent = 0
                while sent < requests {
                    let n = min(batch, requests - sent)
                    let replies = try await connection.pipeline(n == batch ? commands : Array(commands.prefix(n)))
                    precondition(replies.count == n)
                    sent += n
                }
            }
            return Double(requests) / (clock.now - start).inSeconds
        }
        await connection.close()
        print("requests_per_second=\(rate)")
    }
}
