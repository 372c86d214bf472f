import AOF
import ArgumentParser
import Operations
import RESP

struct Save: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "save", abstract: "Take a snapshot (BGSAVE, or SAVE with --blocking) and wait until it is on disk.",
        discussion: """
        Succeeds only when the server reports rdb_last_bgsave_status:ok and a new
        rdb_last_save_time. A BGSAVE already running is waited for first (the report
        says so); one asked for during an AOF rewrite is scheduled behind it.
        --copy-to DIR copies the dump to DIR/<connection>-<UTC time>.rdb with a .sha256
        beside it, written durably and verified. For a server on this machine the dump
        is read from CONFIG GET dir/dbfilename; otherwise (or with --over-replication)
        it is fetched over the replication protocol (SYNC, as redis-cli --rdb does).
        `redis SAVE` sends Redis's own SAVE.
        """)
    @Flag(help: "SAVE instead of BGSAVE: no fork; the server blocks until the snapshot is written.") var blocking = false
    @Option(help: "How long to wait in all (default 5m, at most 7d).", transform: Bounds.duration("--timeout", in: Bounds.wait))
    var timeout: Duration = .seconds(300)
    @Option(name: .customLong("copy-to"), help: "Copy the dump into this folder, with a .sha256 file.") var copyTo: String?
    @Flag(name: .customLong("over-replication"), help: "Fetch the copy over the replication protocol even for a server on this machine.")
    var overReplication = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let limit = timeout
        let (name, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let options = Snapshot.Options(blocking: blocking, timeout: limit, copyTo: copyTo, name: name, overReplication: overReplication)
        let report = try await persistenceRun(invocation) { () throws(PersistenceError) in try await Snapshot.run(connection, options) }
        var fields: [(String, RESPValue)] = [
            ("kind", .text(report.kind)),
            ("duration", .text(DurationText.format(report.duration))),
        ]
        if let fork = report.forkMicroseconds { fields.append(("fork_usec", .integer(Int64(fork)))) }
        fields.append(("dump_size", report.dumpSize.map { .integer(Int64($0)) } ?? .text("unknown (the server's files are not on this machine)")))
        fields.append(("changes_saved", .integer(Int64(report.changesSaved))))
        fields.append(("last_save_time", .integer(Int64(report.lastSaveTime))))
        if let waited = report.waitedFor {
            fields.append(("waited", .text("a BGSAVE was already running: waited \(DurationText.format(waited)) for it first")))
        }
        if report.wasScheduled { fields.append(("scheduled", .text("the BGSAVE waited for another child (an AOF rewrite) to finish"))) }
        if let copy = report.copy {
            fields += [
                ("copy", .text(copy.path)),
                ("copy_size", .integer(Int64(copy.size))),
                ("sha256", .text(copy.sha256)),
                ("copied_from", .text(copy.source)),
                ("verified", .boolean(copy.verified)),
            ]
        }
        return .report(fields)
    }
}

struct Rewrite: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "rewrite", abstract: "Rewrite the AOF (BGREWRITEAOF) and wait until it is done.",
        discussion: """
        Waits until aof_rewrite_in_progress and aof_rewrite_scheduled are both 0 (a
        rewrite asked for during a BGSAVE is only scheduled), then requires
        aof_last_bgrewrite_status:ok. Reports the AOF's size and the manifest's files
        before and after (the files only for a server on this machine). Refused when
        AOF is off.
        """)
    @Option(help: "How long to wait (default 5m, at most 7d).", transform: Bounds.duration("--timeout", in: Bounds.wait))
    var timeout: Duration = .seconds(300)

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let limit = timeout
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let report = try await persistenceRun(invocation) { () throws(PersistenceError) in try await AOFRewrite.run(connection, timeout: limit) }
        var fields: [(String, RESPValue)] = [
            ("duration", .text(DurationText.format(report.duration))),
            ("size_before", .integer(Int64(report.sizeBefore))),
            ("size_after", .integer(Int64(report.sizeAfter))),
            ("fork_usec", .integer(Int64(report.forkMicroseconds))),
        ]
        if report.wasScheduled { fields.append(("scheduled", .text("the rewrite waited for a running BGSAVE"))) }
        fields.append(("files_before", manifestFilesValue(report.filesBefore)))
        fields.append(("files_after", manifestFilesValue(report.filesAfter)))
        return .report(fields)
    }
}

/// `aof status|setup|check`: a group; each action is a subcommand with its own options.
struct Aof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aof", abstract: "The append-only file: status, setup for point-in-time recovery, check and repair.",
        discussion: "help aof SUBCOMMAND (or aof SUBCOMMAND --help) explains each one.",
        subcommands: [AofStatus.self, AofSetup.self, AofCheckCommand.self])
}

struct AofStatus: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Settings, state and the manifest's files in one table.")

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let status = try await persistenceRun(invocation) { () throws(PersistenceError) in try await AOFStatus.read(connection) }
        var fields: [(String, RESPValue)] = status.settings.map { ($0.name, .text($0.value)) }
        fields += status.state.map { (name, value) in (name, Int64(value).map { .integer($0) } ?? .text(value)) }
        if let folder = status.folder { fields.append(("folder", .text(folder))) }
        fields.append(("files", manifestFilesValue(status.files)))
        return .report(fields)
    }
}

struct AofSetup: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup", abstract: "Turn the AOF on for point-in-time recovery and wait for the initial rewrite.",
        discussion: """
        CONFIG SET appendonly yes (and aof-timestamp-enabled yes, auto-aof-rewrite-percentage
        0), wait for the initial rewrite, CONFIG REWRITE when the server has a config file.
        """)
    @Flag(help: "aof-timestamp-enabled yes (#TS annotations).") var timestamps = false
    @Flag(name: .customLong("no-auto-rewrite"), help: "auto-aof-rewrite-percentage 0.") var noAutoRewrite = false
    @Option(help: "How long to wait for the initial rewrite (default 5m, at most 7d).",
            transform: Bounds.duration("--timeout", in: Bounds.wait))
    var timeout: Duration = .seconds(300)

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let options = AOFSetup.Options(timestamps: timestamps, noAutoRewrite: noAutoRewrite, timeout: timeout)
        let report = try await persistenceRun(invocation) { () throws(PersistenceError) in try await AOFSetup.run(connection, options) }
        var fields: [(String, RESPValue)] = [
            ("changed", report.changes.isEmpty ? .text("nothing: already set up")
                : .array(report.changes.map { .report([("setting", .text($0.name)), ("before", .text($0.before)), ("after", .text($0.after))]) })),
            ("initial_rewrite", .text(report.waitedForRewrite ? "done" : "not needed (appendonly was already yes)")),
            ("config_rewrite", .text(report.configFile.map { "CONFIG REWRITE updated \($0)" } ?? "none (no config file, or nothing changed)")),
            ("duration", .text(DurationText.format(report.duration))),
        ]
        if report.changes.isEmpty { fields.removeLast(2) }
        return .report(fields)
    }
}

struct AofCheckCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check an AOF folder or file as redis-check-aof does; --fix writes a repaired copy.",
        discussion: """
        On an AOF folder (manifest) or one file: RESP framing, MULTI/EXEC, the manifest's
        rules, an RDB's magic and CRC-64 trailer; the first bad offset and why. --fix writes
        a repaired copy to OUT (default PATH.fixed) cut before the bad or incomplete part;
        the source is never changed.
        """)
    @Argument(help: "The AOF folder, manifest or file.") var path: String
    @Flag(help: "Write a repaired copy.") var fix = false
    @Option(help: "With --fix: where the repaired copy goes (default PATH.fixed).") var output: String?

    func validate() throws {
        if output != nil && !fix { throw ValidationError("--output goes with --fix") }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try check(path, invocation)
    }

    private func check(_ path: String, _ invocation: CommandInvocation) throws -> RESPValue {
        let report: AOFCheckReport
        do { report = try AOFCheck.check(path: path) } catch {
            throw ShellError(.script, "aof check \(path): \(error)", at: invocation.location)
        }
        var fields: [(String, RESPValue)] = [("path", .text(path))]
        if let manifest = report.manifestPath { fields.append(("manifest", .text(manifest))) }
        fields.append(("valid", .boolean(report.isValid)))
        fields.append(("files", .array(report.files.map { file in
            var row: [(String, RESPValue)] = [
                ("name", .text(file.name)),
                ("type", .text(file.type?.rawValue ?? "-")),
                ("format", .text(file.format?.rawValue ?? "?")),
                ("size", .integer(Int64(file.size))),
                ("commands", .integer(Int64(file.commands))),
                ("transactions", .integer(Int64(file.transactions))),
                ("timestamps", .integer(Int64(file.timestamps))),
                ("valid_up_to", .integer(Int64(file.validLength))),
            ]
            if let first = file.firstTimestamp, let last = file.lastTimestamp {
                row.append(("ts_range", .text("\(first)..\(last)")))
            }
            row.append(("status", .text(file.problem == nil ? "ok" : "BAD")))
            return .report(row)
        })))
        if !report.unlistedFiles.isEmpty {
            fields.append(("unlisted_files", .text(report.unlistedFiles.joined(separator: ", ") + " (not in the manifest: Redis ignores them)")))
        }
        if !report.historyFiles.isEmpty { fields.append(("history_files", .text(report.historyFiles.joined(separator: ", ") + " (not loaded, not checked)"))) }
        if let problem = report.problem {
            fields.append(("problem", .text(problem.description)))
            if let offset = problem.offset, problem.kind != .manifest { fields.append(("bad_offset", .integer(Int64(offset)))) }
            if let bad = report.problemFile { fields.append(("valid_up_to", .integer(Int64(bad.validLength)))) }
        }
        if fix && report.isValid {
            fields.append(("repaired_copy", .text("none: the AOF is valid")))
        } else if fix {
            let target = output ?? AOFRepair.defaultOutput(for: path)
            let repaired: AOFRepair.Result
            do { repaired = try AOFRepair.write(report, to: target) } catch {
                throw ShellError(.script, "aof check --fix \(path): \(error.message)", at: invocation.location)
            }
            fields += [
                ("repaired_copy", .text(repaired.output)),
                ("cut", .text("\(repaired.cutFile) at byte \(repaired.cutAt) (\(repaired.droppedBytes) bytes dropped)")),
            ]
        } else if !report.isValid {
            // A script's `if` can test ${r.valid}; a bare check of a bad AOF still fails.
            throw ShellError(.script, "aof check \(path): not valid: \(report.problem!)"
                             + (report.isFixable ? " (aof check --fix writes a repaired copy)" : ""), at: invocation.location)
        }
        return .report(fields)
    }
}

/// The manifest files as a sub-table (name, type, seq, size), or a note when unreadable.
func manifestFilesValue(_ files: [ManifestFileInfo]?) -> RESPValue {
    guard let files else { return .text("not readable from here (the server's AOF folder is not on this machine)") }
    return .array(files.map { f in
        .report([("name", .text(f.name)), ("type", .text(f.type)), ("seq", .integer(f.seq)),
                 ("size", f.size.map { .integer(Int64($0)) } ?? .text("missing"))])
    })
}

/// Runs an operation, turning its error into a script error at the statement.
func persistenceRun<T>(_ invocation: CommandInvocation, _ body: () async throws(PersistenceError) -> T) async throws -> T {
    do { return try await body() } catch {
        throw ShellError.from(error, doing: "", at: invocation.location)
    }
}
