import ArgumentParser
import Demos
import Foundation
import Operations
import RESP
import RedisClient

/// `benchmark update-token|commands|report`: section 4.5's pipelining benchmark and
/// section 4.6's single-client comparison with redis-benchmark; each is a subcommand.
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark", abstract: "Measure pipelining (Redis in Action 4.5) and the client against redis-benchmark (4.6).",
        discussion: """
        --save FILE.csv writes the figures; --json prints the result as JSON. A server that
        goes away, or Ctrl-C at the prompt, stops the run: what was measured until then is
        reported. help benchmark SUBCOMMAND explains each one.
        """,
        subcommands: [UpdateTokenBenchmarkCommand.self, CommandsBenchmarkCommand.self, BenchmarkReport.self])

    /// A report, or the same as one JSON text with --json.
    static func result(_ report: RESPValue, json: Bool) -> RESPValue {
        guard json else { return report }
        let text = ReplyFormatter(mode: .json, color: false).format(report, verbatim: false)
        return .verbatimString(format: "txt", text: .init(string: text.hasSuffix("\n") ? String(text.dropLast()) : text))
    }

    /// The chart goes to the terminal before the table; JSON output stays one document.
    static func printChart(_ interpreter: Interpreter, _ bars: [(label: String, value: Double)], unit: String, json: Bool) async {
        guard !json, await interpreter.configuration.outputMode != .json, !bars.isEmpty else { return }
        await interpreter.say(BarChart.render(bars, unit: unit))
    }

    static func latencies(_ row: BenchmarkRow) -> [(String, RESPValue)] {
        func micro(_ v: Double?) -> RESPValue { v.map { .double(($0 * 10).rounded() / 10) } ?? .null }
        return [("p50_us", micro(row.p50)), ("p99_us", micro(row.p99)), ("p999_us", micro(row.p999))]
    }

    /// The server's unix socket (CONFIG GET unixsocket), for a server on this machine.
    static func unixSocket(of connection: RedisConnection, at location: SourceLocation) async throws -> RedisEndpoint {
        if case .unix = connection.endpoint { return connection.endpoint }
        let path = try await connection.configGet("unixsocket")["unixsocket"] ?? ""
        guard !path.isEmpty else {
            throw ShellError(.usage, "--unix-socket: the server at \(connection.endpoint) has no unix socket (its unixsocket setting is empty)", at: location)
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw ShellError(.usage, "--unix-socket: \(path), the socket of \(connection.endpoint), is not on this machine", at: location)
        }
        return .unix(path: path)
    }
}

/// What update-token and commands share: where the figures go.
struct BenchmarkOutputOptions: ParsableArguments {
    @Option(help: "Write the figures to this CSV file.") var save: String?
    @Flag(help: "Print this result as JSON.") var json = false
}

/// The modes of update-token, comma-separated (`plain,pipeline`).
struct BenchmarkModes: ExpressibleByArgument, Sendable {
    let modes: [UpdateTokenBenchmark.Mode]

    init?(argument: String) {
        let modes = argument.split(separator: ",").map { UpdateTokenBenchmark.Mode(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        guard !modes.isEmpty, !modes.contains(nil) else { return nil }
        self.modes = modes.compactMap { $0 }
    }

    init(_ modes: [UpdateTokenBenchmark.Mode]) { self.modes = modes }

    static var allValueStrings: [String] { UpdateTokenBenchmark.Mode.allCases.map(\.rawValue) }
    var defaultValueDescription: String { modes.map(\.rawValue).joined(separator: ",") }
}

struct UpdateTokenBenchmarkCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-token", abstract: "The book's update_token one command at a time, pipelined, and inside MULTI/EXEC.",
        discussion: """
        HSET login:, ZADD recent:, ZADD viewed:<token>, ZREMRANGEBYRANK, ZINCRBY viewed:, in
        each mode for --duration: calls/s, commands/s, p50/p99/p99.9 latency, a chart.
        """)
    @Option(help: "How long each mode runs (at most 1d).", transform: Bounds.duration("--duration", in: Bounds.run))
    var duration: Duration = .seconds(5)
    @Option(help: "The modes, comma-separated: plain, pipeline, multi.") var modes = BenchmarkModes(UpdateTokenBenchmark.Mode.allCases)
    @Option(name: [.customShort("c"), .customLong("clients")], help: "Concurrent clients, each on its own connection (1 to 1000).") var clients = 1
    @Flag(name: .customLong("unix-socket"), help: "Connect through the server's unix socket.") var unixSocket = false
    @OptionGroup var output: BenchmarkOutputOptions

    func validate() throws { try Bounds.check(clients, Bounds.clients, "--clients") }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        do { return BenchmarkCommand.result(try await measure(interpreter, invocation), json: output.json) } catch { throw demoError(error, at: invocation.location) }
    }

    private func measure(_ interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        var configuration = connection.configuration
        if unixSocket { configuration.endpoint = try await BenchmarkCommand.unixSocket(of: connection, at: invocation.location) }
        let options = UpdateTokenBenchmark.Options(duration: duration, modes: modes.modes, clients: clients)
        let outcome = try await UpdateTokenBenchmark.run(configuration, options)
        if let save = output.save { try BenchmarkCSV.write(outcome.rows, to: save) }
        await BenchmarkCommand.printChart(interpreter, outcome.rows.map { (label: $0.label, value: $0.callsPerSecond) }, unit: "calls/s", json: output.json)
        var fields: [(String, RESPValue)] = [
            ("server", .text(configuration.endpoint.description)), ("clients", .integer(Int64(clients))),
            ("duration", .text(DurationText.format(duration))),
            ("modes", .array(outcome.rows.map { row in
                .report([("mode", .text(row.label)), ("calls", .integer(Int64(row.calls))),
                         ("calls_per_s", .integer(Int64(row.callsPerSecond.rounded()))),
                         ("commands_per_s", .integer(Int64(row.commandsPerSecond.rounded())))] + BenchmarkCommand.latencies(row))
            })),
        ]
        if let plain = outcome.rows.first(where: { $0.label == "plain" }), plain.callsPerSecond > 0 {
            for row in outcome.rows where row.label != "plain" {
                fields.append(("\(row.label)_vs_plain", .double((row.callsPerSecond / plain.callsPerSecond * 100).rounded() / 100)))
            }
        }
        if let stopped = outcome.stopped { fields.append(("stopped", .bulk(stopped))) }
        if let save = output.save { fields.append(("saved", .bulk(save))) }
        return .report(fields)
    }

}

struct CommandsBenchmarkCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands", abstract: "redis-benchmark's commands through redkeep's client, then redis-benchmark itself.",
        discussion: """
        redis-benchmark (when installed) runs on the same server afterwards: the share
        redkeep reaches, read with table 4.5.
        """)
    @Option(help: "The tests, comma-separated (\(CommandsBenchmark.tests.map(\.name).joined(separator: ",")))") var tests = CommandsBenchmark.defaultTests.joined(separator: ",")
    @Option(name: [.customShort("c"), .customLong("clients")], help: "Concurrent clients, each on its own connection (1 to 1000).") var clients = 1
    @Option(name: [.customShort("P"), .customLong("pipeline")], help: "Commands per pipeline (1 to 100000).") var pipeline = 1
    @Option(name: [.customShort("n"), .customLong("requests")], help: "Requests per test (1 to 10^9).") var requests = 20_000
    @Flag(name: .customLong("no-compare"), help: "Do not run redis-benchmark.") var noCompare = false
    @OptionGroup var output: BenchmarkOutputOptions

    func validate() throws {
        try Bounds.check(clients, Bounds.clients, "--clients")
        try Bounds.check(pipeline, Bounds.pipeline, "--pipeline")
        try Bounds.check(requests, Bounds.requests, "--requests")
        let known = Set(CommandsBenchmark.tests.map(\.name))
        for test in tests.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !known.contains(test) {
            throw ValidationError("--tests: no test \"\(test.prefix(80))\"; the tests are \(CommandsBenchmark.tests.map(\.name).joined(separator: ","))")
        }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        do { return BenchmarkCommand.result(try await measure(interpreter, invocation), json: output.json) } catch { throw demoError(error, at: invocation.location) }
    }

    private func measure(_ interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let options = CommandsBenchmark.Options(tests: tests.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                                clients: clients, pipeline: pipeline, requests: requests, compare: !noCompare)
        let outcome = try await CommandsBenchmark.run(connection.configuration, options)
        if let save = output.save { try BenchmarkCSV.write(outcome.rows, to: save) }
        await BenchmarkCommand.printChart(interpreter, outcome.rows.flatMap { row -> [(label: String, value: Double)] in
            [(label: row.label + " redkeep", value: row.callsPerSecond)]
                + (row.reference.map { [(label: row.label + " redis-benchmark", value: $0)] } ?? [])
        }, unit: "requests/s", json: output.json)
        var fields: [(String, RESPValue)] = [
            ("server", .text(connection.endpoint.description)),
            ("clients", .integer(Int64(clients))), ("pipeline", .integer(Int64(pipeline))), ("requests", .integer(Int64(requests))),
            ("tests", .array(outcome.rows.map { row in
                var cells: [(String, RESPValue)] = [("test", .text(row.label)), ("redkeep_per_s", .integer(Int64(row.callsPerSecond.rounded())))]
                cells.append(("redis_benchmark_per_s", row.reference.map { .integer(Int64($0.rounded())) } ?? .null))
                cells.append(("share", row.share.map { .text("\(Int(($0 * 100).rounded()))%") } ?? .null))
                return .report(cells + BenchmarkCommand.latencies(row))
            })),
            ("reference", .bulk(outcome.reference)),
        ]
        let shares = outcome.rows.compactMap(\.share).sorted()
        if !shares.isEmpty {
            let median = shares[shares.count / 2]
            fields.append(("median_share", .text("\(Int((median * 100).rounded()))%")))
            fields.append(("diagnosis", .bulk(CommandsBenchmark.diagnosis(share: median))))
        }
        if let stopped = outcome.stopped { fields.append(("stopped", .bulk(stopped))) }
        if let save = output.save { fields.append(("saved", .bulk(save))) }
        return .report(fields)
    }

}

struct BenchmarkReport: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Draw CSV files written by --save as one SVG bar chart.")
    @Argument(help: "The CSV files.") var files: [String] = []
    @Option(help: "The SVG file to write (default: the first CSV's name with .svg).") var output: String?
    @Flag(help: "Print this result as JSON.") var json = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        do { return BenchmarkCommand.result(try chart(), json: json) } catch { throw demoError(error, at: invocation.location) }
    }

    private func chart() throws -> RESPValue {
        guard let first = files.first else {
            throw BenchmarkError(.invalidRequest, "benchmark report needs CSV files written by --save: benchmark report run1.csv run2.csv")
        }
        let target = output ?? (first.hasSuffix(".csv") ? String(first.dropLast(4)) : first) + ".svg"
        let read = try BenchmarkSVG.write(csvFiles: files, to: target)
        return .report([("files", .integer(Int64(read.count))), ("rows", .integer(Int64(read.reduce(0) { $0 + $1.rows.count }))),
                        ("svg", .bulk(target))])
    }

}
