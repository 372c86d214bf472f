import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// `benchmark update-token|commands|report`: section 4.5's pipelining benchmark and
/// section 4.6's single-client comparison with redis-benchmark.
struct BenchmarkCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark", abstract: "Measure pipelining (Redis in Action 4.5) and the client against redis-benchmark (4.6).",
        discussion: """
        benchmark update-token [--duration 5s] [--modes plain,pipeline,multi]
                               [--clients N] [--unix-socket]
          the book's update_token (HSET login:, ZADD recent:, ZADD viewed:<token>,
          ZREMRANGEBYRANK, ZINCRBY viewed:) one command at a time, pipelined, and
          inside MULTI/EXEC: calls/s, commands/s, p50/p99/p99.9 latency, a chart.
        benchmark commands [--tests set,get,incr,...] [-c N] [-P N] [-n N]
          redis-benchmark's commands through redkeep's client, then redis-benchmark
          itself (when installed) on the same server: the share redkeep reaches,
          read with table 4.5.
        benchmark report FILE.csv... [--output chart.svg]
          draws files written by --save as one SVG bar chart.
        --save FILE.csv writes the figures; --json prints this result as JSON. A
        server that goes away, or Ctrl-C at the prompt, stops the run: what was
        measured until then is reported.
        """)
    @Argument(help: "update-token, commands or report.") var action: String
    @Argument(help: "report: the CSV files.") var files: [String] = []
    @Option(help: "update-token: how long each mode runs.") var duration = "5s"
    @Option(help: "update-token: plain, pipeline, multi (comma-separated).") var modes = "plain,pipeline,multi"
    @Option(name: [.customShort("c"), .customLong("clients")], help: "Concurrent clients, each on its own connection.") var clients = 1
    @Flag(name: .customLong("unix-socket"), help: "update-token: connect through the server's unix socket.") var unixSocket = false
    @Option(help: "commands: the tests (\(CommandsBenchmark.tests.map(\.name).joined(separator: ",")))") var tests = CommandsBenchmark.defaultTests.joined(separator: ",")
    @Option(name: [.customShort("P"), .customLong("pipeline")], help: "commands: commands per pipeline.") var pipeline = 1
    @Option(name: [.customShort("n"), .customLong("requests")], help: "commands: requests per test.") var requests = 20_000
    @Flag(name: .customLong("no-compare"), help: "commands: do not run redis-benchmark.") var noCompare = false
    @Option(help: "Write the figures to this CSV file.") var save: String?
    @Option(help: "report: the SVG file to write (default: the first CSV's name with .svg).") var output: String?
    @Flag(help: "Print this result as JSON.") var json = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        let report: RESPValue
        do {
            switch action {
            case "update-token": report = try await updateToken(interpreter, invocation)
            case "commands": report = try await commands(interpreter, invocation)
            case "report": report = try chart()
            default: throw ShellError(.usage, "benchmark takes update-token, commands or report, not \"\(action)\"", at: location)
            }
        } catch {
            throw demoError(error, at: location)
        }
        if json {
            let text = ReplyFormatter(mode: .json, color: false).format(report, verbatim: false)
            return .verbatimString(format: "txt", text: .init(string: text.hasSuffix("\n") ? String(text.dropLast()) : text))
        }
        return report
    }

    private func updateToken(_ interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        var modeList: [UpdateTokenBenchmark.Mode] = []
        for name in modes.split(separator: ",") {
            guard let mode = UpdateTokenBenchmark.Mode(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ShellError(.usage, "--modes takes plain, pipeline and multi, not \"\(name)\"", at: invocation.location)
            }
            modeList.append(mode)
        }
        var configuration = connection.configuration
        if unixSocket { configuration.endpoint = try await Self.unixSocket(of: connection, at: invocation.location) }
        let options = UpdateTokenBenchmark.Options(duration: try demoDuration(duration, "--duration", at: invocation.location),
                                                   modes: modeList, clients: clients)
        let outcome = try await UpdateTokenBenchmark.run(configuration, options)
        if let save { try BenchmarkCSV.write(outcome.rows, to: save) }
        await printChart(interpreter, outcome.rows.map { (label: $0.label, value: $0.callsPerSecond) }, unit: "calls/s")
        var fields: [(String, RESPValue)] = [
            ("server", .text(configuration.endpoint.description)), ("clients", .integer(Int64(clients))),
            ("duration", .text(duration)),
            ("modes", .array(outcome.rows.map { row in
                .report([("mode", .text(row.label)), ("calls", .integer(Int64(row.calls))),
                         ("calls_per_s", .integer(Int64(row.callsPerSecond.rounded()))),
                         ("commands_per_s", .integer(Int64(row.commandsPerSecond.rounded())))] + Self.latencies(row))
            })),
        ]
        if let plain = outcome.rows.first(where: { $0.label == "plain" }), plain.callsPerSecond > 0 {
            for row in outcome.rows where row.label != "plain" {
                fields.append(("\(row.label)_vs_plain", .double((row.callsPerSecond / plain.callsPerSecond * 100).rounded() / 100)))
            }
        }
        if let stopped = outcome.stopped { fields.append(("stopped", .bulk(stopped))) }
        if let save { fields.append(("saved", .bulk(save))) }
        return .report(fields)
    }

    private func commands(_ interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let options = CommandsBenchmark.Options(tests: tests.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                                                clients: clients, pipeline: pipeline, requests: requests, compare: !noCompare)
        let outcome = try await CommandsBenchmark.run(connection.configuration, options)
        if let save { try BenchmarkCSV.write(outcome.rows, to: save) }
        await printChart(interpreter, outcome.rows.flatMap { row -> [(label: String, value: Double)] in
            [(label: row.label + " redkeep", value: row.callsPerSecond)]
                + (row.reference.map { [(label: row.label + " redis-benchmark", value: $0)] } ?? [])
        }, unit: "requests/s")
        var fields: [(String, RESPValue)] = [
            ("server", .text(connection.endpoint.description)),
            ("clients", .integer(Int64(clients))), ("pipeline", .integer(Int64(pipeline))), ("requests", .integer(Int64(requests))),
            ("tests", .array(outcome.rows.map { row in
                var cells: [(String, RESPValue)] = [("test", .text(row.label)), ("redkeep_per_s", .integer(Int64(row.callsPerSecond.rounded())))]
                cells.append(("redis_benchmark_per_s", row.reference.map { .integer(Int64($0.rounded())) } ?? .null))
                cells.append(("share", row.share.map { .text("\(Int(($0 * 100).rounded()))%") } ?? .null))
                return .report(cells + Self.latencies(row))
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
        if let save { fields.append(("saved", .bulk(save))) }
        return .report(fields)
    }

    private func chart() throws -> RESPValue {
        guard let first = files.first else {
            throw BenchmarkError("benchmark report needs CSV files written by --save: benchmark report run1.csv run2.csv")
        }
        let target = output ?? (first.hasSuffix(".csv") ? String(first.dropLast(4)) : first) + ".svg"
        let read = try BenchmarkSVG.write(csvFiles: files, to: target)
        return .report([("files", .integer(Int64(read.count))), ("rows", .integer(Int64(read.reduce(0) { $0 + $1.rows.count }))),
                        ("svg", .bulk(target))])
    }

    /// The chart goes to the terminal before the table; JSON output stays one document.
    private func printChart(_ interpreter: Interpreter, _ bars: [(label: String, value: Double)], unit: String) async {
        guard !json, await interpreter.configuration.outputMode != .json, !bars.isEmpty else { return }
        await interpreter.say(BarChart.render(bars, unit: unit))
    }

    private static func latencies(_ row: BenchmarkRow) -> [(String, RESPValue)] {
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
