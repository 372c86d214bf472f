import RESP
import RedisClient

extension Interpreter {
    /// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE (and their UNSUBSCRIBE) and MONITOR: prints every
    /// message as it arrives, as redis-cli does, until the last subscription is dropped or
    /// the run is interrupted (Ctrl-C closes the connection; the next command reconnects).
    func streamMessages(_ command: PreparedCommand, kind: CommandKind, from connection: RedisConnection,
                        at location: SourceLocation) async throws -> RESPValue? {
        try commandInFlight.begin(on: connection)
        defer { commandInFlight.end() }
        finishOutput()
        let messages = connection.stream(encoded: command.encoded, kind: kind)
        var announced = false
        do {
            for try await message in messages {
                show(message)
                if !announced, kind == .subscription, configuration.interactive, message.pubSubKind?.hasSuffix("subscribe") == true {
                    announced = true
                    say("Reading messages... (press Ctrl-C to quit)")
                }
                finishOutput()
            }
        } catch {
            throw shellError(error, at: location)
        }
        // A cancelled wait ends the stream quietly: say why the statement stopped.
        if Task.isCancelled { throw CancellationError() }
        return nil
    }
}

extension RESPValue {
    /// `message`, `subscribe`... for a pub/sub message (an array or push named by its first element).
    var pubSubKind: String? {
        guard let items = elements, items.count >= 3, let first = items.first?.string else { return nil }
        return first.lowercased()
    }
}
