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
/// collector and with one (`redkeep chunk run --archive s3://...`, its own process)
/// archiving into a local SeaweedFS bucket (spool + uploader, small chunks so uploads run
/// during the benchmark), the two orders alternating round by round (A/B, B/A, ...) so
/// drift on this shared machine falls on both sides alike.
///
/// What a user feels is the Redis host's throughput; in a deployment the clients and the
/// object store are other hosts and the collector runs on the Redis host. `--pin hosts`
/// (the default) models that with CPU affinity (see ``S3ImpactPinning``).
struct S3ImpactBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-impact",
        abstract: "redis-benchmark -c 50 with a collector shipping to a local object store vs without (goal >= 0.98).",
        discussion: """
        --pin hosts (default) models separate hosts on one machine with taskset: redis-server and \
        the collector on --redis-host-cpu (the Redis host), redis-benchmark and this process on \
        --remote-cpu (the clients are other hosts in a deployment). The object store, another host \
        in a deployment too, has no CPU of its own on a 2-CPU machine: --store-cpu redis-host \
        (default) puts it on the Redis host's CPU, a worse case for the server than a deployment \
        (the store's work competes with redis-server) that leaves the clients' CPU to the clients, \
        which set the rate; --store-cpu remote puts it beside redis-benchmark (the earlier method: \
        it then takes its CPU from the client, which no deployment does). \
        --pin none pins nothing (the collector and the store then take CPU from redis-benchmark). \
        Without taskset it runs unpinned and says so. --store-priority idle (default) runs the \
        object store at SCHED_IDLE (chrt -i): on a 2-CPU machine redis-benchmark keeps the remote \
        CPU busy, and the store, another host in a deployment, then uses only the cycles it \
        leaves (uploads lag and the spool holds the backlog, as with a slow store); --store-priority \
        normal lets it take its share from redis-benchmark.
        """)

    /// Where processes run: see ``S3ImpactPinning``.
    enum PinMode: String, ExpressibleByArgument, CaseIterable, Sendable { case hosts, none }
    /// The object store's CPU scheduling: see the discussion above.
    enum StorePriority: String, ExpressibleByArgument, CaseIterable, Sendable { case idle, normal }
    /// Which modelled host's CPU the object store shares: see the discussion above.
    enum StoreCPU: String, ExpressibleByArgument, CaseIterable, Sendable {
        case redisHost = "redis-host", remote
    }

    @Option(help: "Requests per redis-benchmark test (1000 to 10,000,000).") var requests = 200_000
    @Option(help: "Rounds, each one run without and one with (1 to 99); medians are reported.") var rounds = 9
    @Option(help: "redis-benchmark's tests.") var tests = "set,incr,lpush"
    @Option(help: "The collector's --chunk-size in bytes, a multiple of 1024 (1024 to 64 MB).") var chunkSize = 256 << 10
    @Option(help: "The collector's --interval in milliseconds (10 to 10,000).") var intervalMilliseconds = 1000
    @Option(help: "hosts: pin the Redis host's and the remote hosts' processes to one CPU each (default); none: pin nothing.") var pin = PinMode.hosts
    @Option(help: "With --pin hosts: the Redis host's CPU (redis-server, the collector).") var redisHostCPU = 0
    @Option(help: "With --pin hosts: the remote hosts' CPU (redis-benchmark, weed, this process).") var remoteCPU = 1
    @Option(help: "idle: the object store runs at SCHED_IDLE, on cycles the processes beside it leave (default); normal: it competes with them.") var storePriority = StorePriority.idle
    @Option(help: "With --pin hosts: redis-host, the object store shares the Redis host's CPU (default); remote, it shares redis-benchmark's.") var storeCPU = StoreCPU.redisHost
    @Option(help: "Also run redis-benchmark -P N in each run, reported apart, never as the goal figure (0: no; 2 to 64).") var pipeline = 0
    @Option(help: "The collector's --upload-priority: normal, low or idle (default: none given, so the collector's default, low).") var uploadPriority: String?
    @Option(help: "The redkeep binary that collects (default: the one beside this benchmark).") var redkeep: String?

    func validate() throws {
        guard (1000...10_000_000).contains(requests) else { throw ValidationError("--requests takes 1000 to 10000000") }
        guard (1...99).contains(rounds) else { throw ValidationError("--rounds takes 1 to 99") }
        guard (1024...(64 << 20)).contains(chunkSize), chunkSize % 1024 == 0 else {
            throw ValidationError("--chunk-size takes a multiple of 1024 from 1024 to 67108864 bytes")
        }
        guard (10...10_000).contains(intervalMilliseconds) else { throw ValidationError("--interval-milliseconds takes 10 to 10000") }
        guard pipeline == 0 || (2...64).contains(pipeline) else { throw ValidationError("--pipeline takes 0 (none) or 2 to 64") }
        if let uploadPriority, UploadPriority(rawValue: uploadPriority) == nil {
            throw ValidationError("--upload-priority takes normal, low or idle, not \"\(uploadPriority.prefix(80))\"")
        }
        for (name, cpu) in [("--redis-host-cpu", redisHostCPU), ("--remote-cpu", remoteCPU)] {
            guard (0...1023).contains(cpu) else { throw ValidationError("\(name) takes a CPU number from 0 to 1023") }
        }
    }

    mutating func run() async throws {
        guard ExternalCommand.find("redis-benchmark") != nil else {
            throw ValidationError("the s3-impact benchmark needs redis-benchmark (apt-get install redis-tools)")
        }
        let binary = try redkeepBinary(redkeep)
        let pinning = try S3ImpactPinning.resolve(pin, redisHostCPU: redisHostCPU, remoteCPU: remoteCPU)
        // This process only starts things and reads /proc between runs: a remote host.
        try await pinning.pin(getpid(), to: pinning.cpus?.remote, what: "this benchmark")
        let objects = try await LocalObjectStore.start(bucket: "bench")
        do {
            let storeCPU = self.storeCPU == .redisHost ? pinning.cpus?.redisHost : pinning.cpus?.remote
            try await pinning.pin(objects.pid, to: storeCPU, what: "the object store")
            if storePriority == .idle { try await S3ImpactPinning.runIdle(objects.pid, what: "the object store") }
            if let storeCPU { print("object store (weed) on CPU \(storeCPU), \(self.storeCPU == .redisHost ? "the Redis host's (--store-cpu redis-host)" : "the remote hosts' (--store-cpu remote)")") }
            print("object store priority: \(storePriority == .idle ? "SCHED_IDLE (chrt -i: only cycles nothing else wants, as a store on another host)" : "normal (it competes with the processes beside it)")")
            setenv("AWS_ACCESS_KEY_ID", objects.credentials.accessKeyID, 1)
            setenv("AWS_SECRET_ACCESS_KEY", objects.credentials.secretAccessKey.revealed, 1)
            try await withLab { lab in try await measure(lab, objects, binary, pinning) }
            await objects.stop()
        } catch {
            await objects.stop()
            throw error
        }
    }

    private func measure(_ lab: Lab, _ objects: LocalObjectStore, _ redkeep: String, _ pinning: S3ImpactPinning) async throws {
        let server = try await lab.start("s3-impact", CollectorBenchmark.aofOptions())
        try await pinning.pin(server.pid, to: pinning.cpus?.redisHost, what: "redis-server")
        let control = try await lab.connect("s3-impact")
        let work = try CollectorBenchmark.temporaryFolder("s3-impact")
        defer { try? FileManager.default.removeItem(atPath: work) }
        print("""
            Shipping impact: redis-benchmark -c 50 -t \(tests) -n \(grouped(Double(requests))) -d 64 on \(lab.binary) (AOF, appendfsync everysec); \
            with shipping: \(redkeep) chunk run --archive s3://bench/impact-N/ --chunk-size \(chunkSize / 1024)KB --interval \(intervalMilliseconds)ms \
            \(uploadPriority.map { "--upload-priority \($0) " } ?? "")(spool + uploader, its own process) to \(objects); \(rounds) rounds, order alternating; \(nproc()) CPUs online, load average at start \(loadAverage())
              upload priority: \(uploadPriority.map { "\($0) (--upload-priority \($0))" } ?? "\(UploadPriority.default.rawValue) (the collector's default: no --upload-priority given)")
              \(pinning.description)
            """)
        var samples = S3ImpactSamples()
        for round in 0..<rounds {
            for shipping in round % 2 == 0 ? [false, true] : [true, false] {
                try await oneRun(round: round, shipping: shipping, server, control, objects, redkeep, pinning, work, &samples)
            }
        }
        samples.report(pipeline: pipeline)
        print("  load average at the end \(loadAverage())")
        await control.close()
    }

    /// One run: a fresh small AOF, the collector started (when shipping) and shipping,
    /// redis-benchmark timed, CPU counted, what was shipped read, the collector stopped.
    private func oneRun(round: Int, shipping: Bool, _ server: LocalServer, _ control: RedisConnection, _ objects: LocalObjectStore,
                     _ redkeep: String, _ pinning: S3ImpactPinning, _ work: String, _ samples: inout S3ImpactSamples) async throws {
        _ = try await control.send(RESPCommand("FLUSHALL"))
        _ = try await control.send(RESPCommand("BGREWRITEAOF"))
        try await CollectorBenchmark.waitForRewrite(control)
        var collector: S3ImpactCollector?
        if shipping {
            collector = try await S3ImpactCollector.start(
                redkeep: redkeep, port: server.port, archive: "s3://bench/impact-\(round)/", endpoint: objects.endpoint.description,
                spool: work + "/spool-\(round)", chunkSize: chunkSize, intervalMilliseconds: intervalMilliseconds, uploadPriority: uploadPriority,
                pinning: pinning, cpu: pinning.cpus?.redisHost)
        }
        do {
            let before = (server: try CollectorBenchmark.cpuSeconds(server.pid), store: try CollectorBenchmark.cpuSeconds(objects.pid),
                          collector: try collector.map { try CollectorBenchmark.cpuSeconds($0.pid) } ?? 0, cpus: CPUTimes.now())
            let started = ContinuousClock.now
            let rates = try await benchmark(server.port, pinning, pipelined: nil)
            let elapsed = (ContinuousClock.now - started).inSeconds
            let cpus = CPUTimes.now()
            let serverSeconds = try CollectorBenchmark.cpuSeconds(server.pid) - before.server
            var sample = S3ImpactSamples.Run(rates: rates)
            sample.serverShare = serverSeconds / elapsed
            // The server's own work per request: what a client-bound run's req/s cannot show.
            sample.serverPerRequest = serverSeconds / Double(requests * tests.split(separator: ",").count) * 1e6
            sample.storeShare = (try CollectorBenchmark.cpuSeconds(objects.pid) - before.store) / elapsed
            if let cpu = pinning.cpus {
                sample.hostBusy = cpus.busyShare(of: cpu.redisHost, since: before.cpus)
                sample.remoteBusy = cpus.busyShare(of: cpu.remote, since: before.cpus)
            }
            if let collector {
                sample.collectorShare = (try CollectorBenchmark.cpuSeconds(collector.pid) - before.collector) / elapsed
                (sample.published, sample.backlog) = try await collector.shipped()
            }
            if pipeline > 0 { sample.pipelinedRates = try await benchmark(server.port, pinning, pipelined: pipeline) }
            if let collector {
                try await collector.stop()
                sample.shippedByStop = try await collector.published()
            }
            samples.add(sample, shipping: shipping)
        } catch {
            try? await collector?.stop()
            throw error
        }
    }

    /// redis-benchmark's req/s per test, on the remote CPU.
    private func benchmark(_ port: Int, _ pinning: S3ImpactPinning, pipelined: Int?) async throws -> [String: Double] {
        let command = pinning.prefix(pinning.cpus?.remote) + ["redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-c", "50",
                                                             "-n", String(requests), "-t", tests, "-d", "64", "--csv"]
            + (pipelined.map { ["-P", String($0)] } ?? [])
        let result = try await ExternalCommand.run(command[0], Array(command.dropFirst()))
        guard result.succeeded else { throw ValidationError("\(command.joined(separator: " ")) failed: \(result.output.prefix(300))") }
        return CollectorBenchmark.rates(result.output)
    }

    private func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    private func nproc() -> Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }
}
