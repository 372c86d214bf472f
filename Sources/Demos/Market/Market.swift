import RESP
import RedisClient

/// The marketplace of section 4.4 on one connection: users as HASHes `users:<id>`,
/// inventories as SETs `inventory:<id>`, and the market ZSET `market:`.
///
/// Each operation is the book's listing: reads under WATCH decide, MULTI/EXEC writes, and a
/// changed watched key (EXEC answers nil) runs the attempt again until a time limit.
public struct Market: Sendable {
    /// The connection the operation runs on (WATCH belongs to a connection).
    public let connection: RedisConnection
    /// When set, every command of the book's sequence and its reply is recorded here.
    public let transcript: MarketTranscript?

    /// A market on `connection`, recording into `transcript` when given.
    public init(connection: RedisConnection, transcript: MarketTranscript? = nil) {
        self.connection = connection
        self.transcript = transcript
    }

    /// Sends one command of the book's sequence; an error reply throws, naming the server.
    @discardableResult
    func send(_ command: RESPCommand) async throws -> RESPValue {
        let reply = try await connection.reply(to: command)
        transcript?.append(command, reply)
        if let message = reply.errorMessage {
            throw MarketError(.serverError, "\(connection.endpoint) answered \(command.name) with an error: \(message)", endpoint: connection.endpoint)
        }
        return reply
    }

    /// MULTI, the writes and EXEC in one write (as redis-py's pipeline does); returns EXEC's
    /// reply: nil when a watched key changed, else the array of the writes' replies.
    func transaction(_ writes: [RESPCommand]) async throws -> RESPValue {
        let commands = [RESPCommand("MULTI")] + writes + [RESPCommand("EXEC")]
        let replies = try await connection.pipeline(commands)
        for (command, reply) in zip(commands, replies) {
            transcript?.append(command, reply)
        }
        for (command, reply) in zip(commands, replies) {
            if let message = reply.errorMessage {
                throw MarketError(.serverError, "\(connection.endpoint) answered \(command.name) with an error: \(message)", endpoint: connection.endpoint)
            }
        }
        let exec = replies.last ?? .null
        for (command, reply) in zip(writes, exec.elements ?? []) {
            if let message = reply.errorMessage {
                throw MarketError(.serverError, "\(connection.endpoint) failed \(command.name) inside EXEC: \(message)", endpoint: connection.endpoint)
            }
        }
        return exec
    }

    /// Throws unless `users:<id>` exists (checked outside the book's sequence, so the
    /// transcript stays the book's).
    func requireUser(_ id: String, as role: String) async throws {
        guard !id.isEmpty, !id.contains(".") else {
            throw MarketError(.invalidRequest, "invalid \(role) id \"\(id)\": user ids are non-empty and have no dots")
        }
        let exists = try await connection.send(RESPCommand("EXISTS", MarketKeys.user(id)))
        guard exists.int == 1 else {
            throw MarketError(.notFound, "unknown \(role) \(id): \(MarketKeys.user(id)) does not exist on \(connection.endpoint) (market reset creates users)", endpoint: connection.endpoint)
        }
    }

    /// Throws for a negative price.
    static func requirePrice(_ price: Int64, for operation: String) throws {
        guard price >= 0 else {
            throw MarketError(.invalidRequest, "\(operation): the price must be a whole number of e-dollars, 0 or more, not \(price)")
        }
    }
}
