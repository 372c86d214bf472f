import ArgumentParser
import RESP
import RedisClient

struct Connect: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect", abstract: "Open a named connection and make it current.",
        discussion: """
        ADDRESS is redis://[user:pass@]host:port[/db], unix:///path.sock, host:port or /path.sock
        (default 127.0.0.1:6379). Prefer --password-env to a password in the URL: it keeps the
        password out of history and of the process listing.
        rediss:// (or --tls, or any other TLS option) speaks TLS; --insecure skips
        checking the server's certificate, and says so each time.
        """)
    @Argument(help: "The connection's name (the prompt shows it).") var name: String
    @Argument(help: "Where the server is.") var address: String = "127.0.0.1:6379"
    @Option(help: "The ACL user.") var user: String?
    @Option(name: .customLong("password-env"), help: "An environment variable holding the password.") var passwordEnv: String?
    @Option(help: "The database to SELECT (0 to 1000000).") var db: Int?
    @Flag(help: "Speak RESP3 (HELLO 3).") var resp3 = false
    @Option(help: "How long to wait for a reply before giving up (default 30s, 1ms to 7d; blocking commands such as BLPOP wait as long as the server holds them).") var timeout: String?
    @Option(name: .customLong("max-reply-size"), help: "The largest reply to accept, like 64mb (default 1gb, 1KB to 1024GB): a larger one closes the connection.") var maxReplySize: String?
    @OptionGroup var tlsOptions: TLSOptions

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        var configuration: RedisConnectionConfiguration
        do {
            configuration = try RedisConnectionConfiguration(url: address)
        } catch {
            throw ShellError(.usage, error.message, at: invocation.location)
        }
        if let user { configuration.username = user }
        if let passwordEnv {
            guard let secret = RedisSecret.fromEnvironment(passwordEnv, environment: await interpreter.configuration.environment) else {
                throw ShellError(.usage, "--password-env \(passwordEnv): that environment variable is not set", at: invocation.location)
            }
            configuration.password = secret
        }
        if let db {
            guard Bounds.database.contains(db) else {
                throw ShellError(.usage, "--db must be from \(Bounds.database.lowerBound) to \(Bounds.database.upperBound), not \(db)", at: invocation.location)
            }
            configuration.database = db
        }
        if resp3 { configuration.protocolVersion = 3 }
        if let timeout {
            guard let d = DurationText.parse(timeout) else {
                throw ShellError(.usage, "--timeout takes a duration like 5s, not \"\(timeout.prefix(80))\"", at: invocation.location)
            }
            guard Bounds.wait.contains(d) else {
                throw ShellError(.usage, "--timeout must be from \(DurationText.format(Bounds.wait.lowerBound)) to \(DurationText.format(Bounds.wait.upperBound)), not \(timeout.prefix(80))", at: invocation.location)
            }
            configuration.commandTimeout = d
        }
        if let maxReplySize {
            guard let bytes = SizeText.parse(maxReplySize), bytes > 0 else {
                throw ShellError(.usage, "--max-reply-size takes a size like 64mb, not \"\(maxReplySize.prefix(80))\"", at: invocation.location)
            }
            guard Bounds.replySize.contains(bytes) else {
                throw ShellError(.usage, "--max-reply-size must be from \(SizeText.format(Bounds.replySize.lowerBound)) to \(SizeText.format(Bounds.replySize.upperBound)), not \(maxReplySize.prefix(80))", at: invocation.location)
            }
            configuration.maxReplyBytes = bytes
        }
        try tlsOptions.apply(to: &configuration)
        if configuration.tls?.verification == RedisTLSConfiguration.Verification.none {
            await interpreter.configuration.output.writeError(TLSOptions.insecureWarning(configuration.endpoint) + "\n")
        }
        configuration.clientName = "redkeep"
        return try await interpreter.openConnection(name, configuration, at: invocation.location)
    }
}

struct Use: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "use", abstract: "Make a named connection the current one.")
    @Argument(help: "The connection's name.") var name: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.use(name, at: invocation.location)
        return nil
    }
}

struct Disconnect: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "disconnect", abstract: "Close a named connection.")
    @Argument(help: "The connection's name.") var name: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.disconnect(name, at: invocation.location)
        return nil
    }
}

struct Connections: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "connections", abstract: "List the named connections.")

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        await interpreter.connectionsReport()
    }
}
