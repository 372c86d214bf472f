import ArgumentParser
import Foundation
import Operations
import RESP
#if canImport(Glibc)
import Glibc
#endif

struct ReplayUntil: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay-until", abstract: "Roll a separate server forward from an archive to a point in time.",
        discussion: """
        TIME: "2026-11-20 15:12:01" or ISO-8601 (local time unless a zone
        is given), @UNIXSECONDS, -10m / -2h (before now), or now (all of
        the archive). Inclusive: every write stamped at or before that
        second; --exclusive stops before it. Other targets: --mark NAME,
        --offset GEN:STREAM:BYTES, or TIME --before-first "FLUSHALL|FLUSHDB"
        (stop just before the first such command at or after TIME).

        Where: --into NAME (any connection; a server holding keys is
        refused unless --flush), --write-aof DIR (a Redis 7 AOF folder that
        redis-server loads natively), or --start NAME (that folder in a new
        local server, connected as NAME).

        A MULTI block cut by the target and a truncated last command are
        not applied; the report names them with offsets. Without #TS
        annotations the size samples are the time map and the report gives
        the precision reached. Ctrl-C stops between batches and reports how
        far it got.
        """)
    @Argument(help: "The point in time.") var time: String?
    @Option(help: "The archive folder.") var archive: String
    @Option(help: "Replay into this connection.") var into: String?
    @Option(name: .customLong("write-aof"), help: "Write a loadable AOF folder here.") var writeAOF: String?
    @Option(help: "Write the AOF folder of a new local server and start it under this name.") var start: String?
    @Option(help: "With --start: the port.") var port: Int?
    @Flag(help: "Stop before the target second instead of after it.") var exclusive = false
    @Flag(name: .customLong("dry-run"), help: "Plan and read (checking every chunk) without writing anything.") var dryRun = false
    @Flag(help: "With --into: FLUSHALL a target that holds keys.") var flush = false
    @Option(help: "Commands in flight at most (sent as 4 pipelines).") var window: Int = 50_000
    @Option(help: "Stop just before the named mark.") var mark: String?
    @Option(name: .customLong("before-first"), help: "Stop before the first of these commands (A|B) at or after TIME.") var beforeFirst: String?
    @Option(help: "Stop at GEN:STREAM:BYTES.") var offset: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        func usage(_ message: String) -> ShellError { ShellError(.usage, "replay-until: " + message, at: location) }
        let destinations = [into != nil, writeAOF != nil, start != nil].filter { $0 }.count
        guard destinations == 1 || (dryRun && destinations == 0) else {
            throw usage("give exactly one of --into NAME, --write-aof DIR, --start NAME (or --dry-run)")
        }
        guard window >= 1 else { throw usage("--window must be at least 1") }
        let target = try replayTarget(usage)
        let index: ArchiveIndex
        let plan: RestorePlan
        do {
            index = try ArchiveIndex.read(archive)
            plan = try RestorePlan.make(index, target: target)
        } catch let error as ArchiveError {
            throw ShellError(.script, "replay-until: \(error)", at: location)
        } catch let error as RestoreError {
            throw ShellError(.script, "replay-until \(target): \(error)", at: location)
        }

        let stop = StopFlag()
        let bar = ProgressBar(enabled: await interpreter.configuration.interactive && isatty(2) == 1)
        do {
            if dryRun {
                try plan.verifyBase()
                let cursor = ReplayCursor(plan)
                let clock = ContinuousClock.now
                while try cursor.next() != nil {}
                var outcome = cursor.outcome
                outcome.duration = seconds(ContinuousClock.now - clock)
                return Self.report(plan, outcome, destination: "dry run (nothing written)")
            }
            if let into {
                let (name, connection) = try await interpreter.connection(into, at: location)
                var replay = ConnectionReplay(plan: plan, target: connection)
                replay.window = window
                replay.flush = flush
                replay.lab = plan.generation.format == "rdb" ? try? await interpreter.labInstance(at: location) : nil
                replay.stop = stop
                replay.progress = bar.update
                let running = Task { try await replay.run() }
                let outcome = try await withTaskCancellationHandler { try await running.value } onCancel: { stop.set() }
                bar.finish()
                return Self.report(plan, outcome, destination: "\(name) (\(connection.endpoint))")
            }
            if let writeAOF {
                var writer = AOFFolderWriter(plan: plan, folder: writeAOF)
                writer.progress = bar.update
                let outcome = try writer.run()
                bar.finish()
                return Self.report(plan, outcome, destination: writeAOF)
            }
            let name = start!
            let lab = try await interpreter.labInstance(at: location)
            var writer = AOFFolderWriter(plan: plan, folder: lab.root + "/" + name + "/appendonlydir")
            writer.progress = bar.update
            let outcome = try writer.run()
            bar.finish()
            let clock = ContinuousClock.now
            _ = try await interpreter.startServer(name, LocalServerOptions(port: port, appendOnly: true), at: location)
            var started = outcome
            started.duration += seconds(ContinuousClock.now - clock)
            let server = await lab.server(name)
            return Self.report(plan, started, destination: "\(name) (\(server.map { $0.endpoint.description } ?? "?"), started on the written AOF)")
        } catch let error as RestoreError {
            bar.finish()
            var message = "replay-until \(target): \(error)"
            if let progress = error.progress, progress.commands > 0 {
                message += " [\(progress.commands) commands applied" + (progress.lastTimestamp.map { ", last stamped \(TimeFormat.text(Double($0)))" } ?? "") + "]"
            }
            throw ShellError(.script, message, at: location)
        }
    }

    private func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    private func replayTarget(_ usage: (String) -> ShellError) throws -> ReplayTarget {
        let chosen = [mark != nil, offset != nil].filter { $0 }.count
        guard chosen <= 1, chosen == 0 || (time == nil && beforeFirst == nil) else {
            throw usage("give one target: TIME, TIME --before-first CMDS, --mark NAME or --offset GEN:STREAM:BYTES")
        }
        if let mark { return .mark(mark) }
        if let offset {
            let parts = offset.split(separator: ":").map { Int($0) }
            guard parts.count == 3, let g = parts[0], let s = parts[1], let b = parts[2], g > 0, s > 0, b >= 0 else {
                throw usage("--offset takes GEN:STREAM:BYTES (three whole numbers), not \"\(offset)\"")
            }
            return .offset(generation: g, stream: s, bytes: b)
        }
        guard let time else { throw usage("a TIME (or --mark / --offset) is needed") }
        guard let value = TimeText.parse(time) else { throw usage("\"\(time)\" is not a time: use \(TimeText.accepted)") }
        let second: Int64
        switch value {
        case .now:
            if beforeFirst == nil { return .latest }
            second = Int64(Date().timeIntervalSince1970.rounded(.down))
        case .seconds(let s):
            second = Int64(s.rounded(.down))
        }
        if let beforeFirst {
            let names = Set(beforeFirst.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty })
            guard !names.isEmpty else { throw usage("--before-first needs command names such as \"FLUSHALL|FLUSHDB\"") }
            return .beforeFirst(commands: names, notBefore: second)
        }
        return .time(second: second, inclusive: !exclusive)
    }

    static func report(_ plan: RestorePlan, _ o: ReplayOutcome, destination: String) -> RESPValue {
        func time(_ t: Int64?) -> RESPValue { t.map { .text(TimeFormat.text(Double($0))) } ?? .null }
        var fields: [(String, RESPValue)] = [
            ("target", .text(plan.target.description)),
            ("into", .text(destination)),
            ("generation", .integer(Int64(plan.generation.gen))),
            ("base", .text("\(plan.generation.format) \(plan.generation.path), as of \(TimeFormat.text(plan.generation.asOf))")),
        ]
        if let keys = o.baseKeys { fields.append(("base_keys", .integer(Int64(keys)))) }
        fields += [
            ("commands", .integer(Int64(o.commands))),
            ("bytes", .integer(Int64(o.bytes))),
            ("first_timestamp", time(o.firstTimestamp)),
            ("last_timestamp", time(o.lastTimestamp)),
            ("time_map", .text(plan.usesTimestamps ? "#TS annotations (to the second)" : "size samples")),
        ]
        if let precision = plan.precision { fields.append(("precision_seconds", .double((precision * 1000).rounded() / 1000))) }
        fields += [
            ("stopped_at", o.stoppedAt.map { .text($0.description) } ?? .text("end of the archive")),
            ("stop_reason", .text(o.stopReason)),
            ("transactions", .integer(Int64(o.transactions))),
            ("rolled_back", .integer(Int64(o.rolledBack.count))),
        ]
        if !o.rolledBack.isEmpty {
            fields.append(("rolled_back_at", .array(o.rolledBack.map { .text("MULTI at \($0.at), \($0.commands) commands: \($0.reason)") })))
        }
        fields.append(("truncated", o.truncated.map { .text("\($0.bytes) bytes at \($0.at) (a command cut short, not applied)") } ?? .null))
        fields.append(("error_replies", .integer(Int64(o.errorReplies))))
        if let e = o.firstError { fields.append(("first_error", .text(e))) }
        if o.interrupted { fields.append(("interrupted", .boolean(true))) }
        fields += [
            ("duration", .text(DurationText.format(.nanoseconds(Int64(o.duration * 1e9))))),
            ("commands_per_second", .integer(Int64(o.commandsPerSecond.rounded()))),
        ]
        return .report(fields)
    }
}

/// A one-line progress bar on the terminal's standard error, redrawn in place.
final class ProgressBar: Sendable {
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    @Sendable func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(Int(fraction * 100))% of \(total / 1_000_000) MB"
        Self.writeError(line)
    }

    func finish() {
        guard enabled else { return }
        Self.writeError("\r\u{1B}[K")
    }

    private static func writeError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
