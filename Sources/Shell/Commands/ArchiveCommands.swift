import ArgumentParser
import Foundation
import Operations
import RESP
#if canImport(Glibc)
import Glibc
#endif

struct ArchiveCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Look into a roll-forward archive: timeline, log, verify, prune.",
        discussion: """
        archive timeline DIR
            generations, covered time, gaps, marks, sizes, writes over time
        archive log DIR [--from T] [--to T] [--key GLOB] [--command NAME]
            the archived commands with their times and offsets
        archive log|timeline DIR --base GEN|latest [--key GLOB]
            the keys of a generation's RDB base: type, size, expiry
        archive verify DIR
            every sha256, every chunk parses, offsets contiguous, gaps;
            fails (exit code 3) when anything is wrong
        archive prune DIR --keep 7d|N [--dry-run]
            drop whole generations older than the window (or all but the
            newest N), never the one a kept time needs
        Times take the forms of replay-until.
        """)
    @Argument(help: "timeline, log, verify or prune.") var action: String
    @Argument(help: "The archive: a folder or s3://BUCKET/PREFIX.") var dir: String
    @Option(name: .customLong("s3-endpoint"), help: "For an s3:// archive: the endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS).") var s3Endpoint: String?
    @Option(help: "log: from this time.") var from: String?
    @Option(help: "log: up to this time (inclusive).") var to: String?
    @Option(help: "log: commands whose key matches this glob.") var key: String?
    @Option(help: "log: commands of this name.") var command: String?
    @Option(help: "log: at most this many lines (1 to 10000000).") var limit: Int = 10_000
    @Option(help: "prune: a window (7d, 12h) or a number of generations.") var keep: String?
    @Flag(name: .customLong("dry-run"), help: "prune: say what would go, delete nothing.") var dryRun = false
    @Option(help: "log, timeline: list the keys of this generation's RDB base (a number, or latest), with --key GLOB and --limit.") var base: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        guard (1...10_000_000).contains(limit) else {
            throw ShellError(.usage, "archive log: --limit takes 1 to 10000000 lines, not \(limit)", at: location)
        }
        do {
            let store = try ArchiveStores.open(dir, s3Endpoint: s3Endpoint)
            if let base, ["log", "timeline"].contains(action.lowercased()) { return try await baseKeys(base, store, location) }
            switch action.lowercased() {
            case "timeline":
                let tty = await interpreter.configuration.interactive && isatty(1) == 1
                let index = try await ArchiveIO.run { () throws(ArchiveError) in try ArchiveIndex.read(store) }
                return timeline(index, tty: tty)
            case "log":
                let command = self
                return try await ArchiveIO.run { () throws in try command.log(store, location) }
            case "verify":
                let command = self
                let (report, problem) = try await ArchiveIO.run { () throws in try command.verify(store, location) }
                if let problem {
                    await interpreter.show(report)
                    throw problem
                }
                return report
            case "prune":
                let command = self
                return try await ArchiveIO.run { () throws in try command.prune(store, location) }
            default:
                throw ShellError(.usage, "archive: unknown action \"\(action)\" (timeline, log, verify or prune)", at: location)
            }
        } catch {
            throw ShellError.from(error, doing: "archive \(action)", at: location)
        }
    }

    private func timeline(_ index: ArchiveIndex, tty: Bool) -> RESPValue {
        let t = ArchiveTimeline.make(index)
        var fields: [(String, RESPValue)] = [
            ("archive", .text(dir)),
            ("source", .text(index.descriptor.source)),
            ("covered", .text("\(TimeFormat.text(t.coverage.lowerBound)) to \(TimeFormat.text(t.coverage.upperBound))")),
            ("bytes", .integer(Int64(t.bytes))),
            ("generations", .array(t.spans.map { s in
                .text("gen \(s.gen) (\(s.format.rawValue) base): \(TimeFormat.text(s.from)) to \(TimeFormat.text(s.until)), streams \(s.streams.map(String.init).joined(separator: ",")), \(s.commands) commands, \(s.bytes) bytes")
            })),
            ("gaps", .array(t.gaps.map { .text("\(TimeFormat.text($0.from)) to \(TimeFormat.text($0.to))" + ($0.stream.map { " (stream \($0))" } ?? "") + ": \($0.reason)") })),
            ("marks", .array(t.marks.map { .text("\($0.name) at \(TimeFormat.text($0.at))") })),
        ]
        if tty {
            fields.append(("writes", .text("|\(t.sparkline)| per \(t.bucketSeconds / 60) min, peak \(t.writes.max() ?? 0)")))
        } else {
            fields.append(("writes_per_bucket", .array(t.writes.map { .integer(Int64($0)) })))
            fields.append(("bucket_seconds", .integer(Int64(t.bucketSeconds))))
        }
        return .report(fields)
    }

    private func log(_ store: any ArchiveStore, _ location: SourceLocation) throws -> RESPValue {
        func time(_ text: String?) throws -> Double? {
            guard let text else { return nil }
            guard let value = TimeText.parse(text) else {
                throw ShellError(.usage, "archive log: \"\(text)\" is not a time: use \(TimeText.accepted)", at: location)
            }
            if case .seconds(let s) = value { return s.rounded(.down) }
            return Date().timeIntervalSince1970.rounded(.down)
        }
        let index = try ArchiveIndex.read(store)
        let filter = ArchiveLog.Filter(from: try time(from), to: try time(to), key: key, command: command)
        var lines: [String] = []
        var more = false
        struct Enough: Error {}
        do {
            try ArchiveLog.read(index, filter: filter) { line in
                guard lines.count < limit else { more = true; throw Enough() }
                let when = line.time.map { (line.approximate ? "~" : " ") + TimeFormat.text($0) } ?? " (no time)"
                lines.append("\(when)  \(line.generation.map(String.init) ?? "-"):\(line.stream):\(line.offset)  \(line.text)")
            }
        } catch is Enough {}
        if more { lines.append("... (more than \(limit) commands; narrow with --from/--to/--key/--command or raise --limit)") }
        return .verbatimString(format: "txt", text: .init(string: lines.joined(separator: "\n") + (lines.isEmpty ? "(no commands match)\n" : "\n")))
    }

    /// The report, and the error to fail with when anything is wrong (exit code 3).
    private func verify(_ store: any ArchiveStore, _ location: SourceLocation) throws -> (RESPValue, ShellError?) {
        let index = try ArchiveIndex.read(store)
        let v = try ArchiveVerifyResult.run(index)
        let report = RESPValue.report([
            ("archive", .text(dir)),
            ("generations", .integer(Int64(v.generations))),
            ("streams", .integer(Int64(v.streams))),
            ("chunks", .integer(Int64(v.chunks))),
            ("commands", .integer(Int64(v.commands))),
            ("bytes", .integer(Int64(v.bytes))),
            ("gaps", .array(v.gaps.map { .text("\(TimeFormat.text($0.from)) to \(TimeFormat.text($0.to))" + ($0.stream.map { " (stream \($0))" } ?? "") + ": \($0.reason)") })),
            ("problems", .array(v.problems.map { .text($0) })),
            ("warnings", .array(v.warnings.map { .text($0) })),
            ("sound", .boolean(v.isSound)),
        ])
        guard v.isSound else {
            return (report, ShellError(.script, "archive verify: \(v.problems.count) problem(s) in \(dir); first: \(v.problems[0])", at: location))
        }
        return (report, nil)
    }

    private func prune(_ store: any ArchiveStore, _ location: SourceLocation) throws -> RESPValue {
        guard let keep else { throw ShellError(.usage, "archive prune: --keep 7d|N is required", at: location) }
        let rule: ArchivePrune.Keep
        if let n = Int(keep) {
            guard (1...1_000_000).contains(n) else { throw ShellError(.usage, "archive prune: --keep takes 1 to 1000000 generations, not \(n)", at: location) }
            rule = .generations(n)
        } else if let d = DurationText.parse(keep), d > .zero, d <= .seconds(100 * 365 * 86_400) {
            rule = .window(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        } else {
            throw ShellError(.usage, "archive prune: --keep takes a window (7d, 12h) or a number of generations, not \"\(keep)\"", at: location)
        }
        let r = try ArchivePrune.run(store, keep: rule, now: Date().timeIntervalSince1970, dryRun: dryRun)
        return .report([
            ("archive", .text(dir)),
            ("dropped_generations", .array(r.droppedGenerations.map { .integer(Int64($0)) })),
            ("dropped_streams", .array(r.droppedStreams.map { .integer(Int64($0)) })),
            ("freed_bytes", .integer(Int64(r.freedBytes))),
            ("kept_from_generation", r.keptFrom.map { .integer(Int64($0)) } ?? .null),
            ("restorable_from", r.restorableFrom.map { .text(TimeFormat.text($0)) } ?? .null),
            ("dry_run", .boolean(dryRun)),
        ])
    }
}
