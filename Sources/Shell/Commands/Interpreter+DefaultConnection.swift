import RESP
import RedisClient

extension Interpreter {
    /// No connection is open and a Redis command came: connect to `address` as redis-cli
    /// would (127.0.0.1:6379 for the redkeep binary), as the connection `default`, saying so.
    /// The password, if any, comes from REDISCLI_AUTH, as for redis-cli.
    func connectToDefault(_ address: String, at location: SourceLocation?) async throws -> (String, RedisConnection) {
        var settings: RedisConnectionConfiguration
        do {
            settings = try RedisConnectionConfiguration(url: address)
        } catch {
            throw ShellError(.usage, "the default address \(address) (REDKEEP_DEFAULT_ADDRESS): \(error.message)", at: location)
        }
        if let secret = RedisSecret.fromEnvironment("REDISCLI_AUTH", environment: configuration.environment) { settings.password = secret }
        settings.clientName = "redkeep"
        try await openConnection("default", settings, at: location)
        // On standard error, so a script's output stays what its statements print.
        emit(.error("(no connection was open: connected to \(settings.endpoint) as default, as redis-cli does)\n"))
        guard let connection = connections.currentConnection else {
            throw ShellError(.connection, "the connection to \(settings.endpoint) closed at once", at: location)
        }
        return ("default", connection)
    }

    /// For an error reply saying the command is unknown: when the word is close to a
    /// redkeep word (`replay-untill`), the hint naming it; nil otherwise.
    func unknownCommandHint(_ reply: RESPValue, _ name: String) -> String? {
        guard let message = reply.errorMessage, message.hasPrefix("ERR unknown command"),
              let nearest = WordSuggestion.nearest(to: name) else { return nil }
        return "\(name.lowercased()) is neither a Redis command nor a redkeep word; did you mean \(nearest)?"
    }

    /// For a command that could not be sent because no server was reachable to ask: when
    /// the word is close to a redkeep word, the hint naming it; nil otherwise.
    func unreachableCommandHint(_ name: String) -> String? {
        WordSuggestion.nearest(to: name).map { "\(name.lowercased()) is not a redkeep word; did you mean \($0)?" }
    }
}
