import ArgumentParser

/// Benchmarks compared side by side with the reference tools, in the same run.
/// `scripts/bench` builds this in release mode and runs `all`.
struct RedkeepBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redkeep-bench",
        abstract: "redkeep's benchmarks, each compared with its reference tool in the same run.",
        subcommands: [All.self, RESPDecodeBenchmark.self, ClientBenchmark.self, InterpreterBenchmark.self, AOFScanBenchmark.self,
                      CollectorBenchmark.self, RestoreBenchmark.self, RestoreRDBBenchmark.self, ReplicationBenchmark.self, DemosBenchmark.self,
                      RDBParseBenchmark.self, S3ArchiveBenchmark.self, S3ImpactBenchmark.self, ReplicaCollectorBenchmark.self,
                      ClientWorker.self],
        defaultSubcommand: All.self
    )
}

struct All: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every benchmark, with default sizes.")

    @Option(help: "Rounds per measurement; medians are reported.") var rounds = 5

    mutating func run() async throws {
        var resp = try RESPDecodeBenchmark.parse(["--rounds", String(rounds)])
        try await resp.run()
        print()
        var client = try ClientBenchmark.parse(["--rounds", String(rounds)])
        try await client.run()
        print()
        var interpreter = try InterpreterBenchmark.parse(["--rounds", String(rounds)])
        try await interpreter.run()
        print()
        var aof = try AOFScanBenchmark.parse(["--rounds", String(rounds)])
        try await aof.run()
        print()
        // The collector and restore rounds take a minute each: three are enough for a median.
        var collector = try CollectorBenchmark.parse(["--rounds", String(min(rounds, 3))])
        try await collector.run()
        print()
        var restore = try RestoreBenchmark.parse(["--rounds", String(min(rounds, 3))])
        try await restore.run()
        print()
        var replication = try ReplicationBenchmark.parse(["--rounds", String(rounds)])
        try await replication.run()
        print()
        var demos = try DemosBenchmark.parse(["--rounds", String(rounds)])
        try await demos.run()
    }
}
