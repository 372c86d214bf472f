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
        archive verify DIR
            every sha256, every chunk parses, offsets contiguous, gaps;
            fails (exit code 3) when anything is wrong
        archive prune DIR --keep 7d|N [--dry-run]
            drop whole generations older than the window (or all but the
            newest N), never the one a kept time needs
        Times take the forms of replay-until.
        """)
    @Argument(help: "timeline, log, verify or prune.") var action: String
    @Argument(help: "The archive folder.") var dir: String
    @Option(help: "log: from this time.") var from: String?
    @Option(help: "log: up to this time (inclusive).") var to: String?
    @Option(help: "log: commands whose key matches this glob.") var key: String?
    @Option(help: "log: commands of this name.") var command: String?
    @Option(help: "log: at most this many lines.") var limit: Int = 10_000
    @Option(help: "prune: a window (7d, 12h) or a number of generations.") var keep: String?
    @Flag(name: .customLong("dry-run"), help: "prune: say what would go, delete nothing.") var dryRun = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        do {
            switch action.lowercased() {
            case "timeline": return try timeline(tty: await interpreter.configuration.interactive && isatty(1) == 1)
            case "log": return try log(location)
            case "verify":
                let (report, problem) = try verify(location)
                if let problem {
                    await interpreter.show(report)
                    throw problem
                }
                return report
            case "prune": return try prune(location)
            default:
                throw ShellError(.usage, "archive: unknown action \"\(action)\" (timeline, log, verify or prune)", at: location)
            }
        } catch let error as ArchiveError {
            throw ShellError(.script, "archive \(action): \(error)", at: location)
        }
    }

    private func timeline(tty: Bool) throws -> RESPValue {
        let index = try ArchiveIndex.read(dir)
        let t = ArchiveTimeline.make(index)
        var fields: [(String, RESPValue)] = [
            ("archive", .text(dir)),
            ("source", .text(index.descriptor.source)),
            ("covered", .text("\(TimeFormat.text(t.coverage.lowerBound)) to \(TimeFormat.text(t.coverage.upperBound))")),
            ("bytes", .integer(Int64(t.bytes))),
            ("generations", .array(t.spans.map { s in
                .text("gen \(s.gen) (\(s.format) base): \(TimeFormat.text(s.from)) to \(TimeFormat.text(s.until)), streams \(s.streams.map(String.init).joined(separator: ",")), \(s.commands) commands, \(s.bytes) bytes")
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

    private func log(_ location: SourceLocation) throws -> RESPValue {
        func time(_ text: String?) throws -> Double? {
            guard let text else { return nil }
            guard let value = TimeText.parse(text) else {
                throw ShellError(.usage, "archive log: \"\(text)\" is not a time: use \(TimeText.accepted)", at: location)
            }
            if case .seconds(let s) = value { return s.rounded(.down) }
            return Date().timeIntervalSince1970.rounded(.down)
        }
        let index = try ArchiveIndex.read(dir)
        let filter = ArchiveLog.Filter(from: try time(from), to: try time(to), key: key, command: command)
        var lines: [String] = []
        var more = false
        struct Enough: Error {}
        do {
            try ArchiveLog.read(index, filter: filter) { line in
                guard lines.count < limit else { more = true; throw Enough() }
                let when = line.time.map { (line.approximate ? "~" : " ") + TimeFormat.text($0) } ?? " (no time)"
                lines.append("\(when)  \(line.stream):\(line.offset)  \(line.text)")
            }
        } catch is Enough {}
        if more { lines.append("... (more than \(limit) commands; narrow with --from/--to/--key/--command or raise --limit)") }
        return .verbatimString(format: "txt", text: .init(string: lines.joined(separator: "\n") + (lines.isEmpty ? "(no commands match)\n" : "\n")))
    }

    /// The report, and the error to fail with when anything is wrong (exit code 3).
    private func verify(_ location: SourceLocation) throws -> (RESPValue, ShellError?) {
        let index = try ArchiveIndex.read(dir)
        let v = ArchiveVerifyResult.run(index)
        let report = RESPValue.report([
            ("archive", .text(dir)),
            ("generations", .integer(Int64(v.generations))),
            ("streams", .integer(Int64(v.streams))),
            ("chunks", .integer(Int64(v.chunks))),
            ("commands", .integer(Int64(v.commands))),
            ("bytes", .integer(Int64(v.bytes))),
            ("gaps", .array(v.gaps.map { .text("\(TimeFormat.text($0.from)) to \(TimeFormat.text($0.to))" + ($0.stream.map { " (stream \($0))" } ?? "") + ": \($0.reason)") })),
            ("problems", .array(v.problems.map { .text($0) })),
            ("sound", .boolean(v.isSound)),
        ])
        guard v.isSound else {
            return (report, ShellError(.script, "archive verify: \(v.problems.count) problem(s) in \(dir); first: \(v.problems[0])", at: location))
        }
        return (report, nil)
    }

    private func prune(_ location: SourceLocation) throws -> RESPValue {
        guard let keep else { throw ShellError(.usage, "archive prune: --keep 7d|N is required", at: location) }
        let rule: ArchivePrune.Keep
        if let n = Int(keep) { rule = .generations(n) } else if let d = DurationText.parse(keep) {
            rule = .window(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        } else {
            throw ShellError(.usage, "archive prune: --keep takes a window (7d, 12h) or a number of generations, not \"\(keep)\"", at: location)
        }
        let r = try ArchivePrune.run(dir, keep: rule, now: Date().timeIntervalSince1970, dryRun: dryRun)
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
