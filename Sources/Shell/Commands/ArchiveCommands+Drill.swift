import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// `archive drill DIR`: proves the archive restores to what the live server (the current
/// or @name connection) holds. See ``ArchiveDrill``.
struct ArchiveDrillCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Mark the live server, restore the archive to the mark in a scratch server, prove it equals the live data at the mark; exit code 3 when not.",
        discussion: """
        The live server is the current (or @name) connection; the archive must protect it,
        and a collector must be archiving it (chunk start, here or in another process).
        In one transaction the drill writes SET redkeep:mark:NAME and CLIENT PAUSE WRITE,
        reads every key (DUMP and PTTL) while writes are held, and unpauses: the report says
        how long writes were held (at most --max-pause, which is also the pause's own
        timeout). It waits for the mark to be archived, restores up to it into a fresh
        local server (stopped afterwards unless --keep) or --into NAME, and compares key by
        key: the report says equal, or lists the first differing keys (missing on restore,
        extra on restore, different value, different type, different TTL). Keys whose
        expiry passed since the mark are counted apart. Needs Redis 6.2 or later.
        """)
    @OptionGroup var archive: ArchiveLocationOptions
    @Option(help: "Restore into this connection instead of a fresh local server (never the live server).") var into: String?
    @Flag(help: "With --into: FLUSHALL a scratch server that holds keys (after every check).") var flush = false
    @Flag(help: "Leave the fresh local server running (connected under its name) after the drill.") var keep = false
    @Option(name: .customLong("max-pause"), help: "Hold the live server's writes at most this long (10ms to 60s).") var maxPause: String = "2s"
    @Option(help: "The whole drill at most this long, every step included: connecting, the checks, the wait for the archive, the restore, the comparison (1s to 24h).") var timeout: String = "10m"
    @Option(help: "List at most this many differing keys (1 to 1000).") var show: Int = 10
    @Option(help: "The mark's name (default drill-UNIXMS).") var mark: String?

    func validate() throws {
        _ = try duration(maxPause, "--max-pause", ArchiveDrillOptions.pauseRange, "10ms to 60s")
        _ = try duration(timeout, "--timeout", ArchiveDrillOptions.timeoutRange, "1s to 24h")
        try Bounds.check(show, ArchiveDrillOptions.showRange, "--show")
        if into != nil, keep { throw ValidationError("--keep is for the fresh local server; --into names a server that stays as it is") }
        if into == nil, flush { throw ValidationError("--flush is for --into") }
    }

    private func duration(_ text: String, _ name: String, _ range: ClosedRange<Duration>, _ bounds: String) throws -> Duration {
        guard let d = DurationText.parse(text), range.contains(d) else {
            throw ValidationError("\(name) takes a duration from \(bounds) (250ms, 2s, 10m), not \"\(text.prefix(80))\"")
        }
        return d
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let at = invocation.location
        let store = try archive.store("drill", at: at)
        let (liveName, _) = try await interpreter.connection(invocation.target, at: at)
        guard let live = await interpreter.connections[liveName]?.configuration else {
            throw ShellError(.usage, "archive drill: unknown connection \(liveName)", at: at)
        }
        let destination: DrillDestination
        var scratchName: String?
        if let into {
            let (name, _) = try await interpreter.connection(into, at: at)
            guard let configuration = await interpreter.connections[name]?.configuration else {
                throw ShellError(.usage, "archive drill: unknown connection \(name)", at: at)
            }
            destination = .connection(configuration, name: name, scratch: try? await interpreter.labInstance(at: at), flush: flush)
        } else {
            let lab = try await interpreter.labInstance(at: at)
            var n = 1
            while await lab.server("drill-\(n)") != nil { n += 1 }
            scratchName = "drill-\(n)"
            destination = .localServer(name: "drill-\(n)", lab: lab, keep: keep)
        }
        var options = ArchiveDrillOptions(archive: store, live: live, destination: destination)
        options.maxPause = try duration(maxPause, "--max-pause", ArchiveDrillOptions.pauseRange, "10ms to 60s")
        options.timeout = try duration(timeout, "--timeout", ArchiveDrillOptions.timeoutRange, "1s to 24h")
        options.show = show
        let report: ArchiveDrillReport
        do { report = try await ArchiveDrill.run(options, markName: mark) } catch {
            throw Self.failure(error, at: at)
        }
        if keep, let scratchName, let server = await interpreter.lab?.server(scratchName) {
            let current = await interpreter.connections.current
            try await interpreter.openConnection(scratchName, server.connectionConfiguration, localServer: scratchName, at: at)
            if let current { try await interpreter.use(current, at: at) }
        }
        let rendered = Self.report(report, archive: archive.dir)
        guard report.isEqual else {
            await interpreter.show(rendered)
            let why = report.verdict == .inconclusive
                ? "inconclusive: \(report.inconclusiveReason ?? "")"
                : "the restore differs from the live data at the mark in \(report.differenceCount) key(s); first: \(report.differences.first.map { "\($0.key) (\($0.reason.rawValue))" } ?? "")"
            throw ShellError(.script, "archive drill: \(why)", at: at)
        }
        return rendered
    }

    /// The drill's errors as the shell's: a refused request is a usage error (1), a lost
    /// connection 2, everything the drill found 3.
    static func failure(_ error: ArchiveDrillError, at location: SourceLocation) -> ShellError {
        let kind: ShellError.Kind
        switch error.kind {
        case .invalidRequest: kind = .usage
        case .live, .scratch: kind = (error.underlying as? RedisClientError).map(ShellError.kind(of:)) ?? .script
        case .restore:
            kind = (error.underlying as? RestoreError).map { ShellError.from($0, doing: "", at: location).kind } ?? .script
        case .unsupported, .archive, .markNotArchived, .timeout: kind = .script
        }
        return ShellError(kind, "archive drill: \(error.message)", at: location)
    }

    static func report(_ r: ArchiveDrillReport, archive: String) -> RESPValue {
        func seconds(_ s: Double) -> RESPValue { .text(DurationText.format(.milliseconds(Int64((s * 1000).rounded())))) }
        var fields: [(String, RESPValue)] = [
            ("verdict", .text(r.verdict.rawValue)),
            ("archive", .text(archive)),
            ("mark", .text(r.markName)),
            ("mark_key", .text(r.markKey)),
            ("marked_at", .text(TimeFormat.text(r.markedAt))),
            ("writes_held", seconds(r.writesHeld)),
            ("keys_at_mark", .integer(Int64(r.keysAtMark))),
        ]
        if let reason = r.inconclusiveReason { fields.append(("inconclusive", .text(reason))) }
        if let position = r.markPosition {
            fields += [("mark_position", .text(position)), ("waited_for_archive", seconds(r.waitedForArchive))]
        }
        if let destination = r.destination { fields.append(("restored_into", .text(destination))) }
        if let restore = r.restore {
            fields += [("generation", .integer(Int64(restore.plan.generation.gen))),
                       ("commands_replayed", .integer(Int64(restore.outcome.commands))),
                       ("restore_duration", seconds(restore.outcome.duration))]
        }
        if r.restore != nil {
            fields += [
                ("keys_restored", .integer(Int64(r.keysRestored))),
                ("keys_compared", .integer(Int64(r.keysCompared))),
                ("expired_since_mark", .integer(Int64(r.expiredSinceMark))),
                ("differences", .integer(Int64(r.differenceCount))),
            ]
        }
        if !r.differences.isEmpty {
            fields.append(("first_differences", .array(r.differences.map { d in
                .text("\(d.key): \(d.reason.rawValue)" + (d.detail.map { " (\($0))" } ?? ""))
            })))
        }
        fields.append(("duration", seconds(r.duration)))
        return .report(fields)
    }
}
