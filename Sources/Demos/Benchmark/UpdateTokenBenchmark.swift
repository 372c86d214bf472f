import Foundation
import RESP
import RedisClient

/// Listings 4.7 to 4.9: the book's update_token (HSET login:, ZADD recent:, ZADD
/// viewed:<token>, ZREMRANGEBYRANK, ZINCRBY viewed:) called in a loop for a while,
/// one command at a time, pipelined without MULTI, and inside MULTI/EXEC.
public enum UpdateTokenBenchmark {
    /// How the five commands of one call travel.
    public enum Mode: String, Sendable, CaseIterable {
        /// Five round trips (listing 4.7).
        case plain
        /// One write, one read, no MULTI (listing 4.8, `pipeline(False)`).
        case pipeline
        /// MULTI, the five, EXEC in one write (redis-py's default `pipeline()`).
        case multi

        /// Commands sent per call.
        var commandsPerCall: Int { self == .multi ? 7 : 5 }
    }

    /// What to run.
    public struct Options: Sendable {
        public var duration: Duration
        public var modes: [Mode]
        /// Concurrent clients, each on its own connection.
        public var clients: Int

        public init(duration: Duration = .seconds(5), modes: [Mode] = Mode.allCases, clients: Int = 1) {
            self.duration = duration
            self.modes = modes
            self.clients = clients
        }
    }

    /// The rows measured, one per mode that ran, and why the run stopped early if it did
    /// (the server went away, Ctrl-C): what was measured until then is kept.
    public struct Outcome: Sendable {
        public var rows: [BenchmarkRow]
        public var stopped: String?
    }

    /// Runs each mode for `duration` against the server `configuration` points to.
    public static func run(_ configuration: RedisConnectionConfiguration, _ options: Options) async throws -> Outcome {
        guard options.clients >= 1 else { throw BenchmarkError(.invalidRequest, "benchmark update-token: --clients must be 1 or more, not \(options.clients)") }
        guard options.duration > .zero else { throw BenchmarkError(.invalidRequest, "benchmark update-token: --duration must be more than 0") }
        var rows: [BenchmarkRow] = []
        for mode in options.modes {
            let (row, stopped) = try await measure(mode, configuration, options)
            if row.calls > 0 { rows.append(row) }
            if let stopped { return Outcome(rows: rows, stopped: "\(mode.rawValue): \(stopped)") }
        }
        return Outcome(rows: rows, stopped: nil)
    }

    /// One mode: every client calls update_token until the time is up.
    static func measure(_ mode: Mode, _ configuration: RedisConnectionConfiguration,
                        _ options: Options) async throws -> (BenchmarkRow, String?) {
        // Connect every client first, so connecting is not measured; a refused connection
        // is an error (nothing was measured).
        var connections: [RedisConnection] = []
        for _ in 0..<options.clients { connections.append(try await RedisConnection.connect(configuration)) }
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + options.duration
        var calls = 0
        var latencies = LatencyRecorder()
        var stopped: String?
        await withTaskGroup(of: (Int, LatencyRecorder, String?).self) { group in
            for connection in connections {
                // On the connection's loop: one executor hop per reply (see EventLoopIsolation).
                group.addTask { await EventLoopIsolation(connection.eventLoop).run { _ in
                    var recorder = LatencyRecorder()
                    var count = 0
                    do {
                        while clock.now < end {
                            let began = clock.now
                            try await updateToken(connection, mode, token: "token", user: "user", item: "item")
                            recorder.record(clock.now - began)
                            count += 1
                            if count & 63 == 0 { try Task.checkCancellation() }
                        }
                        return (count, recorder, nil)
                    } catch {
                        return (count, recorder, Task.isCancelled || error is CancellationError ? "interrupted" : "\(error)")
                    }
                } }
            }
            for await (count, recorder, problem) in group {
                calls += count
                latencies.add(recorder)
                if stopped == nil, let problem { stopped = problem }
            }
        }
        let elapsed = clock.now - start
        for connection in connections { await connection.close() }
        let seconds = elapsed.inSeconds
        let row = BenchmarkRow(benchmark: "update-token", label: mode.rawValue, clients: options.clients, calls: calls,
                               commands: calls * mode.commandsPerCall, seconds: seconds,
                               p50: latencies.microseconds(at: 50), p99: latencies.microseconds(at: 99),
                               p999: latencies.microseconds(at: 99.9))
        return (row, stopped)
    }

    /// One call of the book's update_token with an item, as `mode` sends it.
    public static func updateToken(_ connection: RedisConnection, _ mode: Mode, token: String, user: String, item: String,
                                   isolation: isolated (any Actor)? = #isolation) async throws {
        let timestamp = String(Date().timeIntervalSince1970)
        let viewed = "viewed:" + token
        let commands: [RESPCommand] = [
            RESPCommand("HSET", "login:", token, user),
            RESPCommand("ZADD", "recent:", timestamp, token),
            RESPCommand("ZADD", viewed, timestamp, item),
            RESPCommand("ZREMRANGEBYRANK", viewed, "0", "-26"),
            RESPCommand("ZINCRBY", "viewed:", "-1", item),
        ]
        switch mode {
        case .plain:
            for command in commands { _ = try await connection.send(command) }
        case .pipeline:
            try check(try await connection.pipeline(commands), commands, connection)
        case .multi:
            let wrapped = [RESPCommand("MULTI")] + commands + [RESPCommand("EXEC")]
            let replies = try await connection.pipeline(wrapped)
            try check(replies, wrapped, connection)
            try check(replies.last?.elements ?? [], commands, connection)
        }
    }

    private static func check(_ replies: [RESPValue], _ commands: [RESPCommand], _ connection: RedisConnection) throws {
        for (command, reply) in zip(commands, replies) {
            if let message = reply.errorMessage {
                throw BenchmarkError(.serverError, "\(connection.endpoint) answered \(command.name) with an error: \(message)")
            }
        }
    }
}
