import ArgumentParser
import Operations
import RESP

struct VerifySync: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-sync",
        abstract: "Check that a write on the master reached every replica (and, with --fsync, their disks).",
        discussion: """
        The book's wait_for_sync (listing 4.3), done right. Each replica's link must be up and it must
        follow MASTER (same replication ID; chains of replicas work). A unique token is added to the
        sync:wait sorted set on MASTER (entries older than 15 minutes are removed); WAIT covers the direct
        replicas, then the token is read back on every replica. --fsync also confirms each replica's AOF
        reached disk (WAITAOF where the server has it; else by its appendfsync: always at once, everysec
        once a fsync second passed with aof_pending_bio_fsync:0, no never).
        The report: ok, master, method (WAIT or polling), wait_acked, total_ms, max_seen_ms, and replicas,
        one row per replica in the order given: name, address, level, link, offset_lag (bytes), seen_ms,
        fsync, fsync_ms, fsync_method, ok, problem. Reach them as ${r.replicas[0].seen_ms}.
        A replica that did not sync stops the script (exit 3) unless --no-fail.
        """)
    @Argument(help: "The master's connection name.") var master: String
    @Argument(help: "The replicas' connection names (replicas of replicas too).") var replicas: [String] = []
    @Option(help: "The longest the whole check may take (default 5s; 100ms to 1h).", transform: Bounds.duration("--timeout", in: Bounds.failover))
    var timeout: Duration = .seconds(5)
    @Flag(help: "Also confirm each replica's AOF reached disk.") var fsync = false
    @Flag(name: .customLong("no-fail"), help: "Report replicas that did not sync (ok: no) instead of stopping.") var noFail = false

    func validate() throws {
        guard !replicas.isEmpty else {
            throw ValidationError("verify-sync needs the master and at least one replica: verify-sync MASTER REPLICA...")
        }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.verifySync(master, replicas, SyncCheckOptions(timeout: timeout, fsync: fsync),
                                                noFail: noFail, at: invocation.location)
    }
}

struct Replicas: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicas",
        abstract: "Draw the replication tree around a server: roles, offsets, lag, links, syncs.",
        discussion: """
        Goes up from the server through its masters to the top, then down through every replica each
        server lists, every level of a chain. Servers found on the way are reached with the connection's
        user and password. The report: server, top, count, and nodes, one row per server in tree order:
        tree (the drawing, name and address), depth, role, offset, lag_bytes (top's offset minus its own),
        lag_s (seconds since its master heard from it), link, sync (a full sync is running), state.
        """)
    @Argument(help: "The connection to look from (default: the current one).") var name: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.replicationTree(name ?? invocation.target, at: invocation.location)
    }
}
