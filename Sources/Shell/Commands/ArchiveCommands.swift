import ArgumentParser
import Foundation
import Operations
import RESP
#if canImport(Glibc)
import Glibc
#endif

/// `archive timeline|log|verify|prune|copy|drill`: a group; each action is a subcommand with its own
/// options. Every one takes the archive as a folder or `s3://BUCKET/PREFIX`.
struct ArchiveCommand: ParsableCommand, AcceptsRelativeTimes {
    static let configuration = CommandConfiguration(
        commandName: "archive", abstract: "Look into a roll-forward archive: timeline, log, verify, prune, copy, drill.",
        discussion: "help archive SUBCOMMAND (or archive SUBCOMMAND --help) explains each one. Times take the forms of replay-until.",
        subcommands: [ArchiveTimelineCommand.self, ArchiveLogCommand.self, ArchiveVerifyCommand.self, ArchivePruneCommand.self,
                      ArchiveCopyCommand.self, ArchiveDrillCommand.self])
}

/// Where an archive is: the argument and the endpoint of an `s3://` one.
struct ArchiveLocationOptions: ParsableArguments {
    @Argument(help: "The archive: a folder or s3://BUCKET/PREFIX.") var dir: String
    @Option(name: .customLong("s3-endpoint"), help: "For an s3:// archive: the endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS).") var s3Endpoint: String?

    /// Opens the store, or a usage error naming the location.
    func store(_ action: String, at location: SourceLocation) throws -> any ArchiveStore {
        do { return try ArchiveStores.open(dir, s3Endpoint: s3Endpoint) } catch {
            throw ShellError.from(error, doing: "archive \(action)", at: location)
        }
    }
}

/// Runs archive work off the event loops, mapping its errors once.
private func archiveWork<T: Sendable>(_ action: String, at location: SourceLocation,
                                      _ body: @escaping @Sendable () throws -> T) async throws -> T {
    do { return try await ArchiveIO.run { () throws in try body() } } catch {
        throw ShellError.from(error, doing: "archive \(action)", at: location)
    }
}

struct ArchiveTimelineCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline", abstract: "Generations, covered time, gaps, marks, sizes, writes over time.")
    @OptionGroup var archive: ArchiveLocationOptions
    @Option(help: "List the keys of this generation's RDB base instead (a number, or latest).") var base: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let store = try archive.store("timeline", at: invocation.location)
        if let base { return try await archiveBaseKeys(base, store, pattern: nil, limit: 10_000, at: invocation.location) }
        let tty = await interpreter.configuration.interactive && isatty(1) == 1
        let index = try await archiveWork("timeline", at: invocation.location) { try ArchiveIndex.read(store) }
        return ArchiveReports.timeline(index, location: archive.dir, tty: tty)
    }
}

struct ArchiveLogCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "The archived commands with their times and GEN:STREAM:OFFSET (what replay-until --offset takes).")
    @OptionGroup var archive: ArchiveLocationOptions
    @Option(help: "From this time (inclusive).") var from: String?
    @Option(help: "Up to this time (inclusive).") var to: String?
    @Option(help: "Commands whose key matches this glob.") var key: String?
    @Option(help: "Commands of this name.") var command: String?
    @Option(help: "At most this many lines (1 to 10000000).") var limit: Int = 10_000
    @Option(help: "List the keys of this generation's RDB base instead (a number, or latest), with --key GLOB and --limit.") var base: String?

    func validate() throws {
        try Bounds.check(limit, 1...10_000_000, "--limit")
        for (name, text) in [("--from", from), ("--to", to)] {
            guard let text else { continue }
            do { _ = try TimeText.check(text) } catch { throw ValidationError("\(name): \(error.message)") }
        }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let store = try archive.store("log", at: invocation.location)
        if let base { return try await archiveBaseKeys(base, store, pattern: key, limit: limit, at: invocation.location) }
        let command = self
        return try await archiveWork("log", at: invocation.location) { try command.log(store) }
    }

    private func log(_ store: any ArchiveStore) throws -> RESPValue {
        func time(_ text: String?) -> Double? {
            guard let text, let value = TimeText.parse(text) else { return nil }
            if case .seconds(let s) = value { return s.rounded(.down) }
            return Date().timeIntervalSince1970.rounded(.down)
        }
        let index = try ArchiveIndex.read(store)
        let filter = ArchiveLog.Filter(from: time(from), to: time(to), key: key, command: command)
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
}

struct ArchiveVerifyCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Every sha256, every chunk parses, offsets contiguous, objects without records, gaps; exit code 3 when anything is wrong.")
    @OptionGroup var archive: ArchiveLocationOptions

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let store = try archive.store("verify", at: invocation.location)
        let result = try await archiveWork("verify", at: invocation.location) { try ArchiveVerifyResult.run(try ArchiveIndex.read(store)) }
        let report = ArchiveReports.verify(result, location: archive.dir)
        guard result.isSound else {
            await interpreter.show(report)
            throw ShellError(.script, "archive verify: \(result.problems.count) problem(s) in \(archive.dir); first: \(result.problems[0])", at: invocation.location)
        }
        return report
    }
}

struct ArchivePruneCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Drop whole generations older than the window (or all but the newest N), never the one a kept time needs.")
    @OptionGroup var archive: ArchiveLocationOptions
    @Option(help: "A window (7d, 12h; at most 100 years) or a number of generations (1 to 1000000).") var keep: String
    @Flag(name: .customLong("dry-run"), help: "Say what would go, delete nothing.") var dryRun = false

    func validate() throws { _ = try rule() }

    private func rule() throws -> ArchivePrune.Keep {
        if let n = Int(keep) {
            try Bounds.check(n, 1...1_000_000, "--keep")
            return .generations(n)
        }
        guard let d = DurationText.parse(keep), d > .zero, d <= .seconds(100 * 365 * 86_400) else {
            throw ValidationError("--keep takes a window (7d, 12h) or a number of generations, not \"\(keep.prefix(80))\"")
        }
        return .window(d.inSeconds)
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let store = try archive.store("prune", at: invocation.location)
        let rule = try rule(), dryRun = self.dryRun
        let r = try await archiveWork("prune", at: invocation.location) {
            try ArchivePrune.run(store, keep: rule, now: Date().timeIntervalSince1970, dryRun: dryRun)
        }
        return .report([
            ("archive", .text(archive.dir)),
            ("dropped_generations", .array(r.droppedGenerations.map { .integer(Int64($0)) })),
            ("dropped_streams", .array(r.droppedStreams.map { .integer(Int64($0)) })),
            ("freed_bytes", .integer(Int64(r.freedBytes))),
            ("kept_from_generation", r.keptFrom.map { .integer(Int64($0)) } ?? .null),
            ("restorable_from", r.restorableFrom.map { .text(TimeFormat.text($0)) } ?? .null),
            ("dry_run", .boolean(dryRun)),
        ])
    }
}

struct ArchiveCopyCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an archive between a folder and s3://BUCKET/PREFIX (either way) into an empty DST, checking every object's sha256.",
        discussion: "DST's index is published only after all its objects: an interrupted copy leaves no archive there, only objects to remove.")
    @OptionGroup var archive: ArchiveLocationOptions
    @Argument(help: "The destination: an empty folder or s3://BUCKET/PREFIX.") var destination: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let source = try archive.store("copy", at: invocation.location)
        let target: any ArchiveStore
        do { target = try ArchiveStores.open(destination, s3Endpoint: archive.s3Endpoint) } catch {
            throw ShellError.from(error, doing: "archive copy", at: invocation.location)
        }
        let r = try await archiveWork("copy", at: invocation.location) { try ArchiveCopy.run(from: source, to: target) }
        return .report([("from", .text(archive.dir)), ("to", .text(destination)), ("objects", .integer(Int64(r.objects))),
                        ("bytes", .integer(Int64(r.bytes))), ("records", .integer(Int64(r.records)))])
    }
}

/// The reports of the archive commands.
enum ArchiveReports {
    static func timeline(_ index: ArchiveIndex, location: String, tty: Bool) -> RESPValue {
        let t = ArchiveTimeline.make(index)
        var fields: [(String, RESPValue)] = [
            ("archive", .text(location)),
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

    static func verify(_ v: ArchiveVerifyResult, location: String) -> RESPValue {
        .report([
            ("archive", .text(location)),
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
    }
}
