import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient
#if canImport(Glibc)
import Glibc
#endif

/// The live server's cost of shipping its AOF off the host (issue 17's goal: with shipping
/// >= 0.98 of without): `redis-benchmark -c 50` against a server with AOF, rounds without a
/// collector and with one archiving into a local SeaweedFS bucket (spool + uploader, small
/// chunks so uploads run during the benchmark), the two orders alternating round by round
/// (A/B, B/A, ...) so drift on this shared machine falls on both sides alike.
struct S3ImpactBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-impact",
        abstract: "redis-benchmark -c 50 with a collector shipping to a local object store vs without (goal >= 0.98).")

    @Option(help: "Requests per redis-benchmark test (1000 to 10,000,000).") var requests = 200_000
    @Option(help: "Rounds, each one run without and one with (1 to 99); medians are reported.") var rounds = 9
    @Option(help: "redis-benchmark's tests.") var tests = "set,incr,lpush"
    @Option(help: "The collector's --chunk-size in bytes (1024 to 64 MB).") var chunkSize = 256 << 10
    @Option(help: "The collector's --interval in milliseconds (10 to 10,000).") var intervalMilliseconds = 1000
    @Option(help: "CPU the server is pinned to.") var serverCPU = 0
    @Option(help: "CPU redis-benchmark is pinned to.") var clientCPU = 1
    @Option(help: "Pin the object store (every weed thread) to this CPU (default: not pinned).") var storeCPU: Int?

    func validate() throws {
        guard (1000...10_000_000).contains(requests) else { throw ValidationError("--requests takes 1000 to 10000000") }
        guard (1...99).contains(rounds) else { throw ValidationError("--rounds takes 1 to 99") }
        guard (1024...(64 << 20)).contains(chunkSize) else { throw ValidationError("--chunk-size takes 1024 to 67108864 bytes") }
        guard (10...10_000).contains(intervalMilliseconds) else { throw ValidationError("--interval-milliseconds takes 10 to 10000") }
        for (name, cpu) in [("--server-cpu", serverCPU), ("--client-cpu", clientCPU), ("--store-cpu", storeCPU ?? 0)] {
            guard (0...1023).contains(cpu) else { throw ValidationError("\(name) takes a CPU number from 0 to 1023") }
        }
    }

    mutating func run() async throws {
        guard ExternalCommand.find("redis-benchmark") != nil, ExternalCommand.find("taskset") != nil else {
            throw ValidationError("the s3-impact benchmark needs redis-benchmark (apt-get install redis-tools) and taskset (util-linux)")
        }
        let objects = try await LocalObjectStore.start(bucket: "bench")
        do {
            setenv("AWS_ACCESS_KEY_ID", objects.credentials.accessKeyID, 1)
            setenv("AWS_SECRET_ACCESS_KEY", objects.credentials.secretAccessKey.revealed, 1)
            try await withLab { lab in try await measure(lab, objects) }
            await objects.stop()
        } catch {
            await objects.stop()
            throw error
        }
    }

    private func measure(_ lab: Lab, _ objects: LocalObjectStore) async throws {
        let server = try await lab.start("s3-impact", CollectorBenchmark.aofOptions())
        _ = try await ExternalCommand.run("taskset", ["-p", "-c", String(serverCPU), String(server.pid)])
        let control = try await lab.connect("s3-impact")
        if let storeCPU { _ = try await ExternalCommand.run("taskset", ["-a", "-p", "-c", String(storeCPU), String(objects.pid)]) }
        let work = try CollectorBenchmark.temporaryFolder("s3-impact")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("""
            Shipping impact: redis-benchmark -c 50 -t \(tests) -n \(grouped(Double(requests))) on \(lab.binary) (AOF, appendfsync everysec), \
            server on CPU \(serverCPU), redis-benchmark on CPU \(clientCPU); with: a collector in this process shipping to \(objects) \
            (--chunk-size \(chunkSize / 1024)KB --interval \(intervalMilliseconds)ms, spool + uploader), \
            store \(storeCPU.map { "pinned to CPU \($0)" } ?? "not pinned"); \(rounds) rounds, order alternating; \
            load average at start \(load)
            """)
        var without: [String: [Double]] = [:], with: [String: [Double]] = [:]
        var uploadedDuring: [Int] = [], uploadedTotal: [Int] = []
        // CPU of what shipping adds, as a share of one core over each run with shipping: this
        // process (the collector: AOF reads, sha256, spool, uploads) and the store (weed, which
        // a real deployment runs on another host), and the server's own in both kinds of run.
        var collectorCPU: [Double] = [], storeCPU: [Double] = [], serverWith: [Double] = [], serverWithout: [Double] = []
        var serverPerRequestWith: [Double] = [], serverPerRequestWithout: [Double] = []
        for round in 0..<rounds {
            for shipping in round % 2 == 0 ? [false, true] : [true, false] {
                // Each run starts from a small AOF, so runs are alike.
                _ = try await control.send(RESPCommand("FLUSHALL"))
                _ = try await control.send(RESPCommand("BGREWRITEAOF"))
                try await CollectorBenchmark.waitForRewrite(control)
                var running: (collector: Collector, task: Task<Void, Never>)?
                if shipping {
                    var options = CollectorOptions(archive: "s3://bench/impact-\(round)/", chunkSize: chunkSize,
                                                   interval: .milliseconds(intervalMilliseconds))
                    options.s3Endpoint = objects.endpoint.description
                    options.spool = work + "/spool-\(round)"
                    let collector = try await Collector.open(name: "impact", source: server.connectionConfiguration, options: options)
                    running = (collector, Task.detached { await collector.run() })
                }
                let cpuBefore = (me: try CollectorBenchmark.cpuSeconds(getpid()), store: try CollectorBenchmark.cpuSeconds(objects.pid),
                                 server: try CollectorBenchmark.cpuSeconds(server.pid))
                let started = ContinuousClock.now
                let rb = try await ExternalCommand.run("taskset", ["-c", String(clientCPU), "redis-benchmark", "-h", "127.0.0.1", "-p", String(server.port),
                                                                   "-c", "50", "-n", String(requests), "-t", tests, "-d", "64", "--csv"])
                guard rb.succeeded else { throw ValidationError("redis-benchmark failed: \(rb.output.prefix(300))") }
                let elapsed = (ContinuousClock.now - started).inSeconds
                let serverSeconds = try CollectorBenchmark.cpuSeconds(server.pid) - cpuBefore.server
                let serverShare = serverSeconds / elapsed
                // The server's own work per request: what a client-bound run's req/s cannot show.
                let perRequest = serverSeconds / Double(requests * tests.split(separator: ",").count) * 1e6
                if shipping { serverPerRequestWith.append(perRequest) } else { serverPerRequestWithout.append(perRequest) }
                if shipping {
                    collectorCPU.append((try CollectorBenchmark.cpuSeconds(getpid()) - cpuBefore.me) / elapsed)
                    storeCPU.append((try CollectorBenchmark.cpuSeconds(objects.pid) - cpuBefore.store) / elapsed)
                    serverWith.append(serverShare)
                } else {
                    serverWithout.append(serverShare)
                }
                for (test, rate) in CollectorBenchmark.rates(rb.output) {
                    if shipping { with[test, default: []].append(rate) } else { without[test, default: []].append(rate) }
                }
                if let (collector, task) = running {
                    uploadedDuring.append(collector.status().upload?.uploadedObjects ?? 0)
                    collector.requestStop()
                    await task.value
                    let status = collector.status()
                    guard status.errors == 0 else { throw ValidationError("the collector failed: \(status.lastError ?? "?")") }
                    uploadedTotal.append(status.upload?.uploadedObjects ?? 0)
                }
            }
        }
        var ratios: [Double] = []
        for test in without.keys.sorted() {
            let a = median(without[test] ?? []), b = median(with[test] ?? [])
            ratios.append(b / a)
            print("  \(test.padding(toLength: 6, withPad: " ", startingAt: 0)) with shipping \(grouped(b))/s   without \(grouped(a))/s   ratio \(fixed(b / a, 3))  \(verdict(b / a, goal: 0.98))")
            print("      rounds: with \((with[test] ?? []).map { grouped($0) }.joined(separator: " ")); without \((without[test] ?? []).map { grouped($0) }.joined(separator: " "))")
        }
        print("  objects uploaded while redis-benchmark ran, per round: \(uploadedDuring.map(String.init).joined(separator: " ")) (by the stop: \(uploadedTotal.map(String.init).joined(separator: " ")))")
        func percent(_ values: [Double]) -> String { "\(fixed(median(values) * 100, 1))% (max \(fixed((values.max() ?? 0) * 100, 1))%)" }
        print("  CPU while redis-benchmark ran, share of one core, median: collector \(percent(collectorCPU)), object store (weed) \(percent(storeCPU)); redis-server with shipping \(percent(serverWith)), without \(percent(serverWithout))")
        let a = median(serverPerRequestWithout), b = median(serverPerRequestWith)
        print("  redis-server CPU per request, median: with shipping \(fixed(b, 2)) µs, without \(fixed(a, 2)) µs, without/with \(fixed(a / b, 3))")
        print("      rounds: with \(serverPerRequestWith.map { fixed($0, 2) }.joined(separator: " ")); without \(serverPerRequestWithout.map { fixed($0, 2) }.joined(separator: " ")) µs")
        let after = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("  load average at the end \(after)")
        await control.close()
    }
}
