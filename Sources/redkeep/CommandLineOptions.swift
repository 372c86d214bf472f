import ArgumentParser
import Foundation

/// redkeep's command line. Declared with ArgumentParser for parsing, `--help` and
/// `--generate-completion-script`; the entry point maps errors to redkeep's exit codes (usage
/// errors exit 1, not 64). The connection options are redis-cli's: `-h HOST -p PORT -a PASS
/// -n DB --user U`, so `-h` is the host and only `--help` asks for help.
struct CommandLineOptions: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(commandName: "redkeep", helpNames: [.long])

    @Option(name: [.short, .customLong("command")], help: ArgumentHelp("Run these statements and exit.", valueName: "statements"))
    var command: String?

    @Option(name: [.short, .customLong("url")], help: ArgumentHelp("Connect first: redis://[user:pass@]host:port[/db], host:port or /path.sock.", valueName: "url"))
    var url: String?

    @Option(name: [.customShort("h"), .long], help: "Connect first to this host (as redis-cli -h; default 127.0.0.1).")
    var host: String?

    @Option(name: [.customShort("p"), .long], help: "Connect first to this port (as redis-cli -p; default 6379).")
    var port: Int?

    @Option(name: [.customShort("a"), .customLong("pass")],
            help: ArgumentHelp("The password (as redis-cli -a; unsafe: other users see it in ps; prefer --askpass or REDISCLI_AUTH).", valueName: "password"))
    var password: String?

    @Flag(name: .long, help: "Ask for the password on the terminal (as redis-cli --askpass).")
    var askpass = false

    @Option(name: .long, help: "The ACL user of the first connection.")
    var user: String?

    @Option(name: [.customShort("n"), .customLong("db")], help: "The database of the first connection (SELECT).")
    var db: Int?

    @Option(name: .customLong("password-env"), help: ArgumentHelp("An environment variable holding the password for the first connection.", valueName: "var"))
    var passwordEnv: String?

    @Flag(name: .long, help: "Speak TLS on the first connection (as rediss:// does).")
    var tls = false

    @Option(name: .long, help: ArgumentHelp("Trust the CA certificates in this PEM file.", valueName: "file"))
    var cacert: String?

    @Option(name: .long, help: ArgumentHelp("Trust the CA certificates in this (hashed) folder.", valueName: "dir"))
    var cacertdir: String?

    @Option(name: .long, help: ArgumentHelp("The client certificate (PEM), with --key.", valueName: "file"))
    var cert: String?

    @Option(name: .long, help: ArgumentHelp("The client certificate's private key (PEM).", valueName: "file"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("The server name for SNI and for checking its certificate.", valueName: "name"))
    var sni: String?

    @Flag(name: .long, help: "Do not verify the server's certificate (a warning says so each time).")
    var insecure = false

    /// The TLS options as words of the first `connect` statement.
    var tlsWords: String {
        var words: [String] = []
        if tls { words.append("--tls") }
        for (option, value) in [("--cacert", cacert), ("--cacertdir", cacertdir), ("--cert", cert), ("--key", key), ("--sni", sni)] {
            if let value { words.append("\(option) '\(value.replacingOccurrences(of: "'", with: "\\'"))'") }
        }
        if insecure { words.append("--insecure") }
        return words.map { " " + $0 }.joined()
    }

    @Flag(name: .long, help: "Show each statement before it runs (option echo on).")
    var echo = false

    @Option(name: .customLong("on-error"), help: ArgumentHelp("stop (default) or continue after an error.", valueName: "policy"))
    var onError: String?

    @Flag(name: .long, help: "Print one JSON document per value.")
    var json = false

    @Flag(name: .long, help: "Print values raw, as when not on a terminal.")
    var raw = false

    @Flag(name: .long, help: "Leave the local servers this run started running when it ends.")
    var keep = false

    @Flag(name: .long, help: "Print the version and exit.")
    var version = false

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("A script to run, and its arguments ($1..$9); or, as redis-cli, a Redis command and its arguments.", valueName: "script.rk args"))
    var script: [String] = []

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be from 1 to 65535, not \(port)") }
        if let db, !(0...1_000_000).contains(db) { throw ValidationError("--db must be from 0 to 1000000, not \(db)") }
        if password != nil && (askpass || passwordEnv != nil) {
            throw ValidationError("give the password one way: -a, --askpass or --password-env")
        }
        if let onError, onError != "stop" && onError != "continue" {
            throw ValidationError("--on-error takes stop or continue, not \"\(onError)\"")
        }
    }

    static let helpAbstract = """
        redkeep: an operator's shell for keeping Redis data safe.

          redkeep                      the prompt (statements from stdin when it is not a terminal)
          redkeep FILE.rk [ARGS]       run a script (also as #!/usr/bin/env redkeep)
          redkeep -c 'STATEMENTS'      run statements and exit
          redkeep -h HOST -p PORT      connect first, as redis-cli does (-a PASS, -n DB, --user U)
          redkeep -p PORT CMD [ARG...] send one Redis command and exit, as redis-cli does
                                       (when CMD is not a file, has no / and no .rk)

        With no connection open, a Redis command connects to 127.0.0.1:6379 first, as
        redis-cli does (REDKEEP_DEFAULT_ADDRESS changes that address; empty: never).
        The password may also come from REDISCLI_AUTH, as for redis-cli.

        Exit codes: 0 success, 1 usage or internal error, 2 connection failed or lost,
        3 script error (assert, error reply, transaction out of retries).
        At the prompt, type help for the language.
        """
}
