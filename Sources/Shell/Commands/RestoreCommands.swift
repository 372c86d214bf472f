import ArgumentParser
import Foundation
import Operations
import RESP
#if canImport(Glibc)
import Glibc
#endif

struct ReplayUntil: ShellCommand, AcceptsRelativeTimes {
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

        Before the first write --into refuses the archive's own source (the
        same run_id or replication id as archive.json, the same address, or
        a replica of it) unless --overwrite-source, and checks the size and
        sha256 of the base and every chunk the plan needs; only then does
        --flush empty the target. Reports count what the target
        acknowledged. --into sends the commands as archived, but a run of
        plain SET key value as one MSET (the same end state, far less work
        for the server; the report's sets_sent_as_mset counts them).

        A MULTI block cut by the target and a truncated last command are
        not applied; the report names them with offsets. Without #TS
        annotations the size samples are the time map and the report gives
        the precision reached. A progress bar shows each phase on a
        terminal (checking the archive, loading the base, rolling forward);
        Ctrl-C stops in any of them, between batches, and reports how far
        it got (an interrupted --write-aof leaves no half-written file).
        """)
    @Argument(help: "The point in time.") var time: String?
    @Option(help: "The archive: a folder or s3://BUCKET/PREFIX.") var archive: String
    @Option(name: .customLong("s3-endpoint"), help: "For an s3:// archive: the endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS).") var s3Endpoint: String?
    @Option(help: "Replay into this connection.") var into: String?
    @Option(name: .customLong("write-aof"), help: "Write a loadable AOF folder here.") var writeAOF: String?
    @Option(help: "Write the AOF folder of a new local server and start it under this name.") var start: String?
    @Option(help: "With --start: the port.") var port: Int?
    @Flag(help: "Stop before the target second instead of after it.") var exclusive = false
    @Flag(name: .customLong("dry-run"), help: "Plan and read (checking every chunk) without writing anything.") var dryRun = false
    @Flag(help: "With --into: FLUSHALL a target that holds keys (only after every check has passed).") var flush = false
    @Flag(name: .customLong("overwrite-source"), help: "With --into: allow the archive's own source (or a replica of it) as the target.") var overwriteSource = false
    @Option(help: "Commands in flight at most (1 to 1000000, sent as 4 pipelines).") var window: Int = 50_000
    @Flag(name: .customLong("ttl-as-of-target"), help: "Keys alive at the target come back with the TTL they had then (expiries moved by now minus the target).") var ttlAsOfTarget = false
    @Option(help: "Stop just before the named mark.") var mark: String?
    @Option(name: .customLong("before-first"), help: "Stop before the first of these commands (A|B) at or after TIME.") var beforeFirst: String?
    @Option(help: "Stop at GEN:STREAM:BYTES (as archive log prints them).") var offset: String?

    func validate() throws {
        let destinations = [into != nil, writeAOF != nil, start != nil].filter { $0 }.count
        guard destinations == 1 || (dryRun && destinations == 0) else {
            throw ValidationError("give exactly one of --into NAME, --write-aof DIR, --start NAME (or --dry-run)")
        }
        try Bounds.check(window, 1...RestoreOptions.maxWindow, "--window")
        if let port { try Bounds.check(port, Bounds.port, "--port") }
        if let time {
            do { _ = try TimeText.check(time) } catch { throw ValidationError(error.message) }
        }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        func usage(_ message: String) -> ShellError { ShellError(.usage, "replay-until: " + message, at: location) }
        let target = try replayTarget(usage)
        let store: any ArchiveStore
        do { store = try ArchiveStores.open(archive, s3Endpoint: s3Endpoint) } catch { throw ShellError.from(error, doing: "replay-until", at: location) }

        let destination: RestoreDestination
        if let into {
            let (name, connection) = try await interpreter.connection(into, at: location)
            // A local server to read an RDB base through, if this machine can run one, made
            // only if a key needs it (looking for redis-server runs it: tens of ms).
            destination = .connectionMakingScratch(connection, name: name, scratch: { try? await interpreter.labInstance(at: location) })
        } else if let writeAOF {
            destination = .aofFolder(writeAOF)
        } else if let start {
            destination = .localServer(name: start, lab: try await interpreter.labInstance(at: location), port: port)
        } else {
            destination = .dryRun
        }
        let bar = ProgressBar(enabled: await interpreter.configuration.interactive && isatty(2) == 1)
        var options = RestoreOptions(window: window, flush: flush, overwriteSource: overwriteSource)
        options.ttlAsOfTarget = ttlAsOfTarget
        let report: RestoreReport
        do {
            report = try await Restore.run(archive: store, target: target, destination: destination, options: options,
                                           progress: bar.update)
        } catch {
            bar.finish()
            var message = error.message
            if let progress = error.progress, progress.commands > 0 || (progress.baseKeys ?? 0) > 0 {
                message += " [the target acknowledged \(progress.baseKeys.map { "\($0) base keys and " } ?? "")\(progress.commands) commands"
                    + (progress.lastTimestamp.map { ", last stamped \(TimeFormat.text(Double($0)))" } ?? "") + "]"
            }
            var failure = ShellError.from(error, doing: "replay-until \(target)", at: location)
            failure.message = "replay-until \(target): " + message
            throw failure
        }
        bar.finish()
        if let name = start, let server = await interpreter.lab?.server(name) {
            let keepCurrent = await interpreter.connections.current
            try await interpreter.openConnection(name, server.connectionConfiguration, localServer: name, at: location)
            if let keepCurrent { try await interpreter.use(keepCurrent, at: location) }
        }
        return Self.report(report.plan, report.outcome, destination: report.destination)
    }

    private func replayTarget(_ usage: (String) -> ShellError) throws -> ReplayTarget {
        let chosen = [mark != nil, offset != nil].filter { $0 }.count
        guard chosen <= 1, chosen == 0 || (time == nil && beforeFirst == nil) else {
            throw usage("give one target: TIME, TIME --before-first CMDS, --mark NAME or --offset GEN:STREAM:BYTES")
        }
        if let mark { return .mark(mark) }
        if let offset {
            let parts = offset.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 3, let g = parts[0], let s = parts[1], let b = parts[2], (1...99_999_999).contains(g),
                  (1...99_999_999).contains(s), b >= 0 else {
                throw usage("--offset takes GEN:STREAM:BYTES (three whole numbers), not \"\(offset)\"")
            }
            return .offset(generation: g, stream: s, bytes: b)
        }
        guard let time else { throw usage("a TIME (or --mark / --offset) is needed") }
        let value: TimeText.Value
        do { value = try TimeText.check(time) } catch { throw usage(error.message) }
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
            ("base", .text("\(plan.generation.format.rawValue) \(plan.generation.path), as of \(TimeFormat.text(plan.generation.asOf))")),
        ]
        if let keys = o.baseKeys { fields.append(("base_keys", .integer(Int64(keys)))) }
        if o.baseKeys != nil {
            fields += [("base_keys_ttl_as_of_target", .integer(Int64(o.baseKeysTTLShifted))),
                       ("base_keys_expired_since_target", .integer(Int64(o.baseKeysExpiredSinceTarget)))]
        }
        if plan.generation.format == .rdb, o.baseKeys != nil {
            fields.append(("base_keys_expired_before_target", .integer(Int64(o.baseKeysExpiredBeforeTarget))))
            if o.baseKeysThroughTemporaryServer > 0 {
                fields.append(("base_keys_through_temporary_server", .integer(Int64(o.baseKeysThroughTemporaryServer))))
                fields.append(("base_keys_through_temporary_server_why", .array(o.baseKeysThroughTemporaryServerWhy.map { .text($0) })))
            }
        }
        if o.incrExpiriesShifted > 0 { fields.append(("incr_expiries_shifted", .integer(Int64(o.incrExpiriesShifted)))) }
        if o.incrExpiriesPassedSinceTarget > 0 {
            fields.append(("incr_expiries_passed_since_target", .integer(Int64(o.incrExpiriesPassedSinceTarget))))
        }
        if o.incrExpiriesPassedSinceTarget > 0 || o.baseKeysExpiredSinceTarget > 0 {
            fields.append(("expired_since_target_hint", .text("keys alive at the target whose expiry passed before the restore are gone on the target; --ttl-as-of-target keeps them with the TTL they had then")))
        }
        fields += [
            ("commands", .integer(Int64(o.commands))),
            ("bytes", .integer(Int64(o.bytes))),
            ("first_timestamp", time(o.firstTimestamp)),
            ("last_timestamp", time(o.lastTimestamp)),
            ("time_map", .text(plan.usesTimestamps ? "#TS annotations (to the second)" : "size samples")),
        ]
        // Runs of plain SETs go to a server as MSETs (same end state, far less work for it).
        if o.setsSentAsMSET > 0 { fields.append(("sets_sent_as_mset", .integer(Int64(o.setsSentAsMSET)))) }
        if let precision = plan.precision { fields.append(("precision_seconds", .double((precision * 1000).rounded() / 1000))) }
        fields += [
            ("stopped_at", o.stoppedAt.map { .text($0.description) } ?? .text(o.interrupted ? "interrupted" : "end of the archive")),
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
        // What the restore chose on the operator's behalf (e.g. chunks downloaded a second
        // time because the spool had no room) is part of the report, not only a log line.
        if !o.notes.isEmpty { fields.append(("notes", .array(o.notes.map { .text($0) }))) }
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

    @Sendable func update(_ progress: RestoreProgress) {
        guard enabled, progress.total > 0 else { return }
        let fraction = min(1, Double(progress.done) / Double(progress.total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let unit = progress.unit == .keys ? "\(progress.total) keys" : "\(progress.total / 1_000_000) MB"
        let line = "\r\(progress.phase.rawValue): [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(Int(fraction * 100))% of \(unit)\u{1B}[K"
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
