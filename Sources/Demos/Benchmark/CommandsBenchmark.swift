import Foundation
import Operations
import RESP
import RedisClient

/// The single-client picture of redis-benchmark (listing 4.10): the same commands on the
/// same keys through redkeep's client, and, when redis-benchmark is installed, redis-benchmark
/// itself against the same server in the same run, so that table 4.5's diagnosis can be made.
public enum CommandsBenchmark {
    /// One test: the command redis-benchmark sends for it and the name of its CSV row.
    public struct Test: Sendable {
        public var name: String
        public var command: RESPCommand
        /// The row's name in `redis-benchmark --csv`.
        public var csvName: String
        /// The name redis-benchmark's -t takes.
        public var tName: String
    }

    /// redis-benchmark's tests with its keys and values (data size 3: "xxx").
    public static let tests: [Test] = {
        var mset: [RESPArgument] = ["MSET"]
        for _ in 0..<10 { mset += ["key:__rand_int__", "xxx"] }
        return [
            Test(name: "ping", command: ["PING"], csvName: "PING_MBULK", tName: "ping_mbulk"),
            Test(name: "set", command: ["SET", "key:__rand_int__", "xxx"], csvName: "SET", tName: "set"),
            Test(name: "get", command: ["GET", "key:__rand_int__"], csvName: "GET", tName: "get"),
            Test(name: "incr", command: ["INCR", "counter:__rand_int__"], csvName: "INCR", tName: "incr"),
            Test(name: "lpush", command: ["LPUSH", "mylist", "xxx"], csvName: "LPUSH", tName: "lpush"),
            Test(name: "rpush", command: ["RPUSH", "mylist", "xxx"], csvName: "RPUSH", tName: "rpush"),
            Test(name: "lpop", command: ["LPOP", "mylist"], csvName: "LPOP", tName: "lpop"),
            Test(name: "rpop", command: ["RPOP", "mylist"], csvName: "RPOP", tName: "rpop"),
            Test(name: "sadd", command: ["SADD", "myset", "element:__rand_int__"], csvName: "SADD", tName: "sadd"),
            Test(name: "hset", command: ["HSET", "myhash", "element:__rand_int__", "xxx"], csvName: "HSET", tName: "hset"),
            Test(name: "spop", command: ["SPOP", "myset"], csvName: "SPOP", tName: "spop"),
            Test(name: "zadd", command: ["ZADD", "myzset", "0", "element:__rand_int__"], csvName: "ZADD", tName: "zadd"),
            Test(name: "zpopmin", command: ["ZPOPMIN", "myzset"], csvName: "ZPOPMIN", tName: "zpopmin"),
            Test(name: "lrange_100", command: ["LRANGE", "mylist", "0", "99"], csvName: "LRANGE_100 (first 100 elements)", tName: "lrange_100"),
            Test(name: "mset", command: RESPCommand(mset), csvName: "MSET (10 keys)", tName: "mset"),
        ]
    }()

    /// The default selection, close to listing 4.10.
    public static let defaultTests = ["ping", "set", "get", "incr", "lpush", "lpop", "sadd", "spop", "lrange_100", "mset"]

    /// What to run.
    public struct Options: Sendable {
        public var tests: [String]
        /// Concurrent clients (-c).
        public var clients: Int
        /// Commands per pipeline (-P).
        public var pipeline: Int
        /// Requests per test (-n).
        public var requests: Int
        /// Also run redis-benchmark when it is installed.
        public var compare: Bool

        public init(tests: [String] = CommandsBenchmark.defaultTests, clients: Int = 1, pipeline: Int = 1,
                    requests: Int = 20_000, compare: Bool = true) {
            self.tests = tests
            self.clients = clients
            self.pipeline = pipeline
            self.requests = requests
            self.compare = compare
        }
    }

    /// The measured rows, what became of redis-benchmark, and why the run stopped early.
    public struct Outcome: Sendable {
        public var rows: [BenchmarkRow]
        /// `redis-benchmark 7.0.15 at /usr/bin/redis-benchmark`, or why it did not run.
        public var reference: String
        public var stopped: String?
    }

    /// Checks the options and names the tests (throws for unknown ones).
    public static func selectedTests(_ names: [String]) throws -> [Test] {
        try names.map { name in
            guard let test = tests.first(where: { $0.name == name.lowercased() }) else {
                throw BenchmarkError(.invalidRequest, "benchmark commands: unknown test \"\(name)\" (known: \(tests.map(\.name).joined(separator: ", ")))")
            }
            return test
        }
    }

    /// Runs every test through redkeep's client, then redis-benchmark on the same tests.
    public static func run(_ configuration: RedisConnectionConfiguration, _ options: Options) async throws -> Outcome {
        let selected = try selectedTests(options.tests)
        guard options.clients >= 1, options.pipeline >= 1, options.requests >= 1 else {
            throw BenchmarkError(.invalidRequest, "benchmark commands: -c, -P and -n must be 1 or more (got -c \(options.clients) -P \(options.pipeline) -n \(options.requests))")
        }
        var rows: [BenchmarkRow] = []
        var stopped: String?
        for test in selected {
            if test.name == "lrange_100" { try await fillList(configuration) }
            let (row, problem) = try await measure(test, configuration, options)
            if row.calls > 0 { rows.append(row) }
            if let problem {
                stopped = "\(test.name): \(problem)"
                break
            }
        }
        var reference = "redis-benchmark was not asked for"
        if options.compare && stopped == nil {
            reference = await compare(&rows, selected, configuration, options)
        }
        return Outcome(rows: rows, reference: reference, stopped: stopped)
    }

    /// LRANGE 0 99 needs 100 elements, as redis-benchmark's "LPUSH (needed to benchmark LRANGE)".
    static func fillList(_ configuration: RedisConnectionConfiguration) async throws {
        let connection = try await RedisConnection.connect(configuration)
        defer { Task { await connection.close() } }
        _ = try await connection.pipeline([RESPCommand](repeating: ["LPUSH", "mylist", "xxx"], count: 100))
    }

    /// One test: `requests` spread over the clients, `pipeline` at a time.
    static func measure(_ test: Test, _ configuration: RedisConnectionConfiguration,
                        _ options: Options) async throws -> (BenchmarkRow, String?) {
        var connections: [RedisConnection] = []
        for _ in 0..<options.clients { connections.append(try await RedisConnection.connect(configuration)) }
        let clock = ContinuousClock()
        let start = clock.now
        var done = 0
        var latencies = LatencyRecorder()
        var stopped: String?
        let perClient = options.requests / options.clients
        await withTaskGroup(of: (Int, LatencyRecorder, String?).self) { group in
            for (i, connection) in connections.enumerated() {
                let share = perClient + (i < options.requests % options.clients ? 1 : 0)
                // On the connection's loop: one executor hop per reply (see EventLoopIsolation).
                group.addTask { await EventLoopIsolation(connection.eventLoop).run { _ in
                    var recorder = LatencyRecorder()
                    var count = 0
                    let batch = [RESPCommand](repeating: test.command, count: options.pipeline)
                    do {
                        while count < share {
                            let began = clock.now
                            if options.pipeline == 1 {
                                _ = try await connection.send(test.command)
                                count += 1
                            } else {
                                let n = min(options.pipeline, share - count)
                                let replies = try await connection.pipeline(n == batch.count ? batch : Array(batch.prefix(n)))
                                if let error = replies.first(where: \.isError)?.errorMessage {
                                    throw BenchmarkError(.serverError, "\(connection.endpoint) answered \(test.command.name) with an error: \(error)")
                                }
                                count += n
                            }
                            recorder.record(clock.now - began)
                            if count & 255 == 0 { try Task.checkCancellation() }
                        }
                        return (count, recorder, nil)
                    } catch {
                        return (count, recorder, Task.isCancelled || error is CancellationError ? "interrupted" : "\(error)")
                    }
                } }
            }
            for await (count, recorder, problem) in group {
                done += count
                latencies.add(recorder)
                if stopped == nil, let problem { stopped = problem }
            }
        }
        let elapsed = clock.now - start
        for connection in connections { await connection.close() }
        let seconds = elapsed.inSeconds
        return (BenchmarkRow(benchmark: "commands", label: test.name, clients: options.clients, calls: done, commands: done,
                             seconds: seconds, p50: latencies.microseconds(at: 50), p99: latencies.microseconds(at: 99),
                             p999: latencies.microseconds(at: 99.9)), stopped)
    }

    /// Runs redis-benchmark with the same -c -P -n on the same tests and fills in each
    /// row's reference; returns what happened, for the report.
    static func compare(_ rows: inout [BenchmarkRow], _ selected: [Test], _ configuration: RedisConnectionConfiguration,
                        _ options: Options) async -> String {
        guard let path = ExternalCommand.find("redis-benchmark") else {
            return "redis-benchmark is not installed (apt-get install redis-tools); no share to report"
        }
        guard configuration.password == nil else {
            return "redis-benchmark not run: the connection has a password, which would show on its command line"
        }
        var arguments: [String]
        switch configuration.endpoint {
        case .tcp(let host, let port): arguments = ["-h", host, "-p", String(port)]
        case .unix(let socket): arguments = ["-s", socket]
        }
        if configuration.database != 0 { arguments += ["--dbnum", String(configuration.database)] }
        arguments += ["-c", String(options.clients), "-n", String(options.requests), "-P", String(options.pipeline),
                      "-t", selected.map(\.tName).joined(separator: ","), "--csv"]
        let result: ExternalCommand.Result
        do {
            result = try await ExternalCommand.run(path, arguments)
        } catch {
            return "redis-benchmark could not run: \(error)"
        }
        guard result.succeeded else {
            return "redis-benchmark failed (\(result.status)): \(result.output.suffix(300))"
        }
        let rates = parseCSV(result.output)
        for i in rows.indices {
            if let test = selected.first(where: { $0.name == rows[i].label }), let rate = rates[test.csvName] {
                rows[i].reference = rate
            }
        }
        return "redis-benchmark at \(path), same -c \(options.clients) -P \(options.pipeline) -n \(options.requests), same run"
    }

    /// The rps column of each row of `redis-benchmark --csv`, by the row's name.
    public static func parseCSV(_ output: String) -> [String: Double] {
        var rates: [String: Double] = [:]
        for line in output.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) where line.hasPrefix("\"") {
            let fields = line.split(separator: "\",\"").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count > 1, let rate = Double(fields[1]) { rates[fields[0]] = rate }
        }
        return rates
    }

    /// Table 4.5's reading of a share of redis-benchmark's single-client figure.
    public static func diagnosis(share: Double) -> String {
        switch share {
        case 0.8...: return "on par with redis-benchmark (goal: 80% or more)"
        case 0.45..<0.8: return "table 4.5: 50-60% is what a client that parses every reply reaches without pipelining"
        case 0.2..<0.45: return "table 4.5: 25-30% usually means connecting for every command or group of commands; remedy: reuse connections"
        default: return "far below redis-benchmark: a new connection per command, a slow network or a CPU busy with other work"
        }
    }
}
