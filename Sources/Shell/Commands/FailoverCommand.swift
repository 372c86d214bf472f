import ArgumentParser
import Operations
import RESP

struct FailoverCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Make another server the master: --promote a replica, --replace a lost master, or ask --sentinel.",
        discussion: """
        Each way prints its plan and each step with its timing; --dry-run prints the plan alone.
          failover --promote REPLICA [--others R...]
            Old master answers: CLIENT PAUSE WRITE on it, wait until REPLICA has its offset,
            REPLICAOF NO ONE, repoint the others and the old master, CLIENT UNPAUSE (no acknowledged
            write is lost). Old master gone: promote whichever of REPLICA and the others has the
            highest offset, repoint the rest, and say what may have been lost.
          failover --replace MASTER --with NEW --from REPLICA
            The book's listing 4.4: NEW gets a full copy of REPLICA (SAVE and the dump copied when
            both are local servers, REPLICAOF otherwise), NEW is promoted, REPLICA follows NEW.
          failover --sentinel HOST:PORT|URL|NAME --master NAME [--tls --cacert FILE ...]
            SENTINEL FAILOVER, followed until Sentinel names the new master, which is then verified.
            A Sentinel given by address is reached as `connect` would reach it: rediss:// or --tls
            and the TLS options for a Sentinel on TLS; a connection name uses that connection's
            settings.
        Before any step, each server that will follow the new master is checked: when the new
        master needs a password, it must have a masterauth (the one redkeep logs in with), and
        when it speaks TLS, tls-replication must not be no; otherwise the failover is refused
        (a demoted master that could never link would only be undone at the deadline).
        A replica whose link is down and whose lag is unknown is not promoted without --force. A step
        that fails undoes the earlier ones, and the error says which steps ran and each server's state.
        Afterwards, connections to the old master that are not a local server's own follow the new
        master, and the current connection moves to the new master if it was the old one.
        The report: mode, dry_run, completed, old_master, new_master, new_master_address, lost_bytes,
        total_ms, steps (step, action, server, status, ms, note), notes, servers (name, address, state),
        repointed.
        """)
    @Option(help: "The replica to promote.") var promote: String?
    @Option(parsing: .upToNextOption, help: "With --promote: the other replicas to repoint (or to choose from when the master is gone).") var others: [String] = []
    @Option(help: "The lost master to replace.") var replace: String?
    @Option(name: .customLong("with"), help: "With --replace: the server that becomes the new master.") var with: String?
    @Option(help: "With --replace: the replica whose data the new master gets.") var from: String?
    @Option(help: "A Sentinel to ask: a connection name, host:port or a redis:// or rediss:// URL.") var sentinel: String?
    @Option(help: "With --sentinel: the master's name in Sentinel.") var master: String?
    @Flag(name: .customLong("dry-run"), help: "Print the plan only.") var dryRun = false
    @Flag(help: "Promote a replica whose link is down and whose lag is unknown.") var force = false
    @Option(help: "The longest the whole failover may take, undo included but for 1s per step undone (default 10s; 100ms to 1h).", transform: Bounds.duration("--timeout", in: Bounds.failover))
    var timeout: Duration = .seconds(10)
    @OptionGroup(title: "TLS to a Sentinel given by address") var tlsOptions: TLSOptions

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let location = invocation.location
        let options = FailoverOptions(dryRun: dryRun, force: force, timeout: timeout)
        let ways = [promote != nil, replace != nil, sentinel != nil].filter { $0 }.count
        guard ways == 1 else {
            throw ShellError(.usage, "failover takes exactly one of --promote REPLICA, --replace MASTER --with NEW --from REPLICA, --sentinel HOST:PORT --master NAME", at: location)
        }
        if let promote {
            guard with == nil, from == nil, master == nil else {
                throw ShellError(.usage, "failover --promote takes --others, not --with/--from/--master", at: location)
            }
            return try await interpreter.failoverPromote(promote, others: others, options, at: location)
        }
        if let replace {
            guard let with, let from else {
                throw ShellError(.usage, "failover --replace MASTER needs --with NEW and --from REPLICA", at: location)
            }
            return try await interpreter.failoverReplace(replace, with: with, from: from, options, at: location)
        }
        guard let sentinel, let master else {
            throw ShellError(.usage, "failover --sentinel HOST:PORT needs --master NAME (the name Sentinel monitors)", at: location)
        }
        return try await interpreter.failoverSentinel(sentinel, master: master, tls: tlsOptions, options, at: location)
    }
}
