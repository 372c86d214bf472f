import ArgumentParser
import Foundation
import Operations
import RESP
import RedisClient

/// `chunk start|run|status|stop`: a group; each action is a subcommand.
struct ChunkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chunk", abstract: "The roll-forward collector: copy a server's AOF into an archive, chunk by chunk.",
        discussion: """
        Follows the current (or @name) server's AOF folder (CONFIG GET dir, appenddirname:
        it runs on the Redis host). Every --interval it copies new whole commands in chunks
        of at most --chunk-size, --pause between chunks, reads capped at --rate; it follows
        rewrites (new incr file; new base = new generation) and asks for BGREWRITEAOF at
        --rewrite-at (local time, daily) or every --rewrite-every. Sizes: 16KB, 4MB, 1GB
        (1KB = 1024 bytes). With --replica it collects as a replica of the server instead:
        no AOF and no file access needed (--rate then caps the archive writes; a slower
        archive holds the link back). With an s3:// archive chunks wait in a --spool and are
        shipped at --upload-priority (low by default: nice 19; copying keeps its priority).
        See docs/roll-forward.md and docs/archive.md.
        help chunk SUBCOMMAND explains each one.
        """,
        subcommands: [ChunkStart.self, ChunkRun.self, ChunkStatus.self, ChunkStop.self])
}

/// What `chunk start` and `chunk run` take.
struct CollectorArguments: ParsableArguments {
    @Option(help: "The collector's name (default: the connection's).") var name: String?
    @Option(help: "The archive: a folder (created when missing; one per server) or s3://BUCKET/PREFIX.") var archive: String
    @Option(name: .customLong("s3-endpoint"), help: "For an s3:// archive: the endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS).") var s3Endpoint: String?
    @Option(help: "For an s3:// archive: the folder where chunks wait for their upload (default: redkeep-spool-NAME next to the AOF folder).") var spool: String?
    @Option(name: .customLong("upload-priority"), help: "For an s3:// archive: the CPU priority of the shipping, never of the copying: normal, low (nice 19, the default: a small share of a busy CPU) or idle (SCHED_IDLE: only cycles nothing else wants; on a host never idle the backlog waits in the spool).") var uploadPriority: String?
    @Option(name: .customLong("aof-dir"), help: "The AOF folder (default: CONFIG GET dir + appenddirname).") var aofDir: String?
    @Option(name: .customLong("chunk-size"), help: "The largest chunk (default 4MB; 1KB to 1GB).") var chunkSize = "4MB"
    @Option(help: "The sleep between chunks (default 100ms; at most 1m).") var pause = "100ms"
    @Option(help: "How often to sample and copy (default 1s; 10ms to 1h).") var interval = "1s"
    @Option(help: "Cap on the read rate, e.g. 50MB/s (default 50MB/s; 0 = no cap).") var rate = "50MB/s"
    @Option(name: .customLong("rewrite-at"), help: "BGREWRITEAOF daily at this local time, e.g. 03:00.") var rewriteAt: String?
    @Option(name: .customLong("rewrite-every"), help: "BGREWRITEAOF every so often, e.g. 24h (1m to 365d).") var rewriteEvery: String?
    @Flag(help: "Collect from the replication stream, as a replica (no AOF, no shared disk).") var replica = false

    func validate() throws {
        guard let size = SizeText.parse(chunkSize), (1 << 10 ... 1 << 30).contains(size) else {
            throw ValidationError("--chunk-size takes a size from 1KB to 1GB like 64KB or 4MB, not \"\(chunkSize.prefix(80))\"")
        }
        guard let p = DurationText.parse(pause), p >= .zero, p <= .seconds(60) else {
            throw ValidationError("--pause takes a duration from 0 to 1m like 100ms, not \"\(pause.prefix(80))\"")
        }
        guard let i = DurationText.parse(interval), i >= .milliseconds(10), i <= .seconds(3600) else {
            throw ValidationError("--interval takes a duration from 10ms to 1h like 1s, not \"\(interval.prefix(80))\"")
        }
        guard let r = SizeText.parseRate(rate), r >= 0, r <= 1 << 40 else {
            throw ValidationError("--rate takes a rate up to 1TB/s like 50MB/s (0 for no cap), not \"\(rate.prefix(80))\"")
        }
        if let rewriteEvery {
            guard let d = DurationText.parse(rewriteEvery), d >= .seconds(60), d <= .seconds(365 * 86_400) else {
                throw ValidationError("--rewrite-every takes a duration from 1m to 365d like 24h, not \"\(rewriteEvery.prefix(80))\"")
            }
        }
        if let rewriteAt, RewriteSchedule.TimeOfDay(rewriteAt) == nil {
            throw ValidationError("--rewrite-at takes a local time like 03:00, not \"\(rewriteAt.prefix(80))\"")
        }
        // Options that only an s3:// archive uses are refused with a folder, not ignored:
        // an operator who named a spool should not believe chunks wait in it.
        if !archive.lowercased().hasPrefix("s3://") {
            for (option, given) in [("--spool", spool != nil), ("--s3-endpoint", s3Endpoint != nil)] where given {
                throw ValidationError("\(option) is for an s3:// archive; the archive \(archive.prefix(200)) is a folder, which the collector writes directly (no spool, no endpoint)")
            }
        }
        if let uploadPriority {
            guard UploadPriority(rawValue: uploadPriority) != nil else {
                throw ValidationError("--upload-priority takes normal, low or idle, not \"\(uploadPriority.prefix(80))\"")
            }
            guard archive.lowercased().hasPrefix("s3://") else {
                throw ValidationError("--upload-priority is for an s3:// archive, whose chunks are uploaded from a spool; the archive \(archive.prefix(200)) is a folder, written by the copying itself")
            }
            guard !replica else {
                throw ValidationError("--upload-priority is for a collector following the AOF, which uploads from a spool; a --replica collector writes to the archive itself")
            }
        }
    }

    func collectorOptions(at location: SourceLocation) throws -> CollectorOptions {
        guard let size = SizeText.parse(chunkSize), size > 0 else {
            throw ShellError(.usage, "--chunk-size takes a size like 64KB or 4MB, not \"\(chunkSize)\"", at: location)
        }
        guard let pauseDuration = DurationText.parse(pause) else {
            throw ShellError(.usage, "--pause takes a duration like 100ms or 1s, not \"\(pause)\"", at: location)
        }
        guard let intervalDuration = DurationText.parse(interval), intervalDuration > .zero else {
            throw ShellError(.usage, "--interval takes a duration above zero like 1s or 500ms, not \"\(interval)\"", at: location)
        }
        guard let bytesPerSecond = SizeText.parseRate(rate) else {
            throw ShellError(.usage, "--rate takes a rate like 50MB/s (0 for no cap), not \"\(rate)\"", at: location)
        }
        var timeOfDay: RewriteSchedule.TimeOfDay?
        if let rewriteAt {
            guard let t = RewriteSchedule.TimeOfDay(rewriteAt) else {
                throw ShellError(.usage, "--rewrite-at takes a local time like 03:00, not \"\(rewriteAt)\"", at: location)
            }
            timeOfDay = t
        }
        var every: Duration?
        if let rewriteEvery {
            guard let d = DurationText.parse(rewriteEvery), d > .zero else {
                throw ShellError(.usage, "--rewrite-every takes a duration like 24h or 30m, not \"\(rewriteEvery)\"", at: location)
            }
            every = d
        }
        let path = archive.hasPrefix("/") || archive.lowercased().hasPrefix("s3://") ? archive : FileManager.default.currentDirectoryPath + "/" + archive
        var options = CollectorOptions(archive: path, aofDirectory: aofDir, chunkSize: size, pause: pauseDuration, interval: intervalDuration,
                                       rate: bytesPerSecond == 0 ? nil : bytesPerSecond, rewriteAt: timeOfDay, rewriteEvery: every)
        options.s3Endpoint = s3Endpoint
        options.spool = spool.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        options.replica = replica
        if let uploadPriority {
            guard let priority = UploadPriority(rawValue: uploadPriority) else {
                throw ShellError(.usage, "--upload-priority takes normal, low or idle, not \"\(uploadPriority)\"", at: location)
            }
            options.uploadPriority = priority
        }
        return options
    }
}

struct ChunkStart: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Collect in the background; the prompt stays usable.")
    @OptionGroup var collector: CollectorArguments

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let options = try collector.collectorOptions(at: invocation.location)
        return try await interpreter.startCollector(name: collector.name, options: options, foreground: false, invocation)
    }
}

struct ChunkRun: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Collect in the foreground (for a service manager); SIGTERM or Ctrl-C copies what is pending, then returns.")
    @OptionGroup var collector: CollectorArguments

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let options = try collector.collectorOptions(at: invocation.location)
        return try await interpreter.startCollector(name: collector.name, options: options, foreground: true, invocation)
    }
}

struct ChunkStatus: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Files followed, bytes behind, chunks, rate, errors (every collector, or NAME).")
    @Argument(help: "The collector.") var collector: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.collectorStatus(collector, at: invocation.location)
    }
}

struct ChunkStop: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Copy what is pending, then stop (the only collector, or NAME).")
    @Argument(help: "The collector.") var collector: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.stopCollector(collector, at: invocation.location)
    }
}

struct MarkCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark", abstract: "Record a named restore point in the archive and in the AOF (for replay-until --mark).",
        discussion: """
        Writes SET redkeep:mark:NAME <unix time> on the server, so the mark sits in the AOF
        exactly where it was made, then a mark record in the archive. Uses the collector of
        the current (or @name) connection, or --collector N; with no collector running in
        this session, --archive DIR writes the record itself.
        """)
    @Argument(help: "The mark's name (no blanks).") var name: String
    @Option(help: "The collector whose archive gets the mark.") var collector: String?
    @Option(help: "An archive no collector of this session holds.") var archive: String?
    @Option(name: .customLong("s3-endpoint"), help: "For an s3:// archive: the endpoint URL (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile, or AWS).") var s3Endpoint: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.mark(name, collector: collector, archive: archive, s3Endpoint: s3Endpoint, invocation)
    }
}

/// A collector running in the background of a session.
struct BackgroundCollector {
    let collector: any ArchiveCollecting
    let task: Task<Void, Never>
}

extension Interpreter {
    func startCollector(name: String?, options: CollectorOptions, foreground: Bool, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let at = invocation.location
        let (connectionName, _) = try await connection(invocation.target, at: at)
        guard let source = connections[connectionName]?.configuration else {
            throw ShellError(.usage, "unknown connection \(connectionName)", at: at)
        }
        let collectorName = name ?? connectionName
        if collectors[collectorName] != nil {
            throw ShellError(.usage, "a collector called \(collectorName) already runs in this session (chunk stop \(collectorName) first, or --name)", at: at)
        }
        let output = configuration.output
        let log: @Sendable (String) -> Void = { output.writeError($0 + "\n") }
        let collector: any ArchiveCollecting
        do throws(CollectorError) {
            if options.replica {
                collector = try await ReplicaCollector.open(name: collectorName, source: source, options: options, log: foreground ? log : nil)
            } else {
                collector = try await Collector.open(name: collectorName, source: source, options: options, log: foreground ? log : nil)
            }
        } catch {
            // An unreachable server or object store ends a script with 2, like every connection failure.
            let kind: ShellError.Kind = error.kind == .connection || error.archiveKind == .unreachable ? .connection : .script
            throw ShellError(kind, "chunk \(foreground ? "run" : "start") on \(source.endpoint): \(error.message)", at: at)
        }
        if foreground {
            let token = ForegroundInterrupt.install { collector.requestStop() }
            defer { ForegroundInterrupt.remove(token) }
            await collector.run()
            return Self.statusReport(collector.status())
        }
        let task = Task.detached { await collector.run() }
        collectors[collectorName] = BackgroundCollector(collector: collector, task: task)
        for warning in collector.status().warnings { emit(.error("warning: chunk \(collectorName): \(warning)\n")) }
        return Self.statusReport(collector.status())
    }

    func collectorStatus(_ name: String?, at location: SourceLocation) throws -> RESPValue {
        if let name {
            guard let entry = collectors[name] else { throw ShellError(.usage, "no collector called \(name) (\(knownCollectors))", at: location) }
            return Self.statusReport(entry.collector.status())
        }
        return .array(collectors.keys.sorted().map { Self.statusReport(collectors[$0]!.collector.status()) })
    }

    func stopCollector(_ name: String?, at location: SourceLocation) async throws -> RESPValue {
        guard let name = name ?? (collectors.count == 1 ? collectors.keys.first : nil) else {
            throw ShellError(.usage, collectors.isEmpty ? "no collector runs in this session" : "chunk stop NAME: several collectors run (\(knownCollectors))", at: location)
        }
        guard let entry = collectors[name] else { throw ShellError(.usage, "no collector called \(name) (\(knownCollectors))", at: location) }
        entry.collector.requestStop()
        await entry.task.value
        collectors[name] = nil
        return Self.statusReport(entry.collector.status())
    }

    /// Stops every background collector, each copying what is pending (at shutdown).
    func stopCollectors() async {
        for (_, entry) in collectors { entry.collector.requestStop() }
        for (_, entry) in collectors { await entry.task.value }
        collectors = [:]
    }

    var knownCollectors: String { collectors.isEmpty ? "none runs" : "running: " + collectors.keys.sorted().joined(separator: ", ") }

    func mark(_ name: String, collector: String?, archive: String?, s3Endpoint: String?, _ invocation: CommandInvocation) async throws -> RESPValue {
        let at = invocation.location
        let record: ArchiveRecord.Mark
        do {
            if let archive, collector == nil {
                let (connectionName, _) = try await connection(invocation.target, at: at)
                guard let configuration = connections[connectionName]?.configuration else { throw ShellError(.usage, "unknown connection", at: at) }
                let location = archive.hasPrefix("/") || archive.lowercased().hasPrefix("s3://") ? archive : FileManager.default.currentDirectoryPath + "/" + archive
                let store: any ArchiveStore
                do { store = try ArchiveStores.open(location, s3Endpoint: s3Endpoint) } catch { throw ShellError.from(error, doing: "mark \(name)", at: at) }
                record = try await Collector.mark(name, archive: store, source: configuration)
            } else {
                let chosen: String
                if let collector {
                    chosen = collector
                } else if let target = invocation.target ?? connections.current, collectors[target] != nil {
                    chosen = target
                } else if collectors.count == 1 {
                    chosen = collectors.keys.first!
                } else {
                    throw ShellError(.usage, "mark \(name): which collector? (\(knownCollectors)); use --collector N, or --archive DIR", at: at)
                }
                guard let entry = collectors[chosen] else { throw ShellError(.usage, "no collector called \(chosen) (\(knownCollectors))", at: at) }
                record = try await entry.collector.mark(name)
            }
        } catch let error as CollectorError {
            throw ShellError.from(error, doing: "mark \(name)", at: at)
        }
        var fields: [(String, RESPValue)] = [("mark", .text(record.name)), ("key", .text(record.key)), ("at", .double(record.at))]
        if let stream = record.stream { fields.append(("stream", .integer(Int64(stream)))) }
        return .report(fields)
    }

    static func statusReport(_ s: CollectorStatus) -> RESPValue {
        var fields: [(String, RESPValue)] = [
            ("name", .text(s.name)),
            ("state", .text(s.state.rawValue)),
            ("source", .text(s.source)),
            ("archive", .text(s.archive)),
            ("aof_dir", .text(s.aofDirectory)),
            ("mode", .text(s.mode)),
            ("files", .array(s.files.map { .text($0) })),
            ("bytes_behind", .integer(Int64(s.bytesBehind))),
            ("chunks", .integer(Int64(s.chunks))),
            ("bytes_copied", .integer(Int64(s.bytesCopied))),
            ("generations", .integer(Int64(s.generations))),
            ("last_copy", s.lastCopy.map { .text(Self.timeText($0)) } ?? .null),
            ("rate", .text(SizeText.format(Int(s.rate)) + "/s")),
            ("next_rewrite", s.nextRewrite.map { .text(Self.timeText($0)) } ?? .null),
            ("rewrites", .integer(Int64(s.rewrites))),
            ("errors", .integer(Int64(s.errors))),
            ("last_error", s.lastError.map { .text($0) } ?? .null),
        ]
        if let u = s.upload {
            fields += [
                ("spool", .text(u.spool)),
                ("upload_backlog_chunks", .integer(Int64(u.backlogObjects))),
                ("upload_backlog_bytes", .integer(Int64(u.backlogBytes))),
                ("upload_oldest_age", u.oldestSpooled.map { .text(String(format: "%.1fs", max(0, Date().timeIntervalSince1970 - $0))) } ?? .null),
                ("uploaded_chunks", .integer(Int64(u.uploadedObjects))),
                ("upload_priority", .text(u.priority.rawValue)),
                ("upload_priority_problem", u.priorityProblem.map { .text($0) } ?? .null),
                ("last_upload_error", u.lastError.map { .text($0) } ?? .null),
            ]
        }
        if !s.warnings.isEmpty { fields.append(("warnings", .array(s.warnings.map { .text($0) }))) }
        if let link = s.replica { fields += replicaFields(link) }
        return .report(fields)
    }

    static func timeText(_ unix: Double) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: unix))
    }
}
