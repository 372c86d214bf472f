import RESP

/// What went wrong talking to a Redis server, saying what was attempted, against which
/// server, and why: `cannot connect to 127.0.0.1:6390: connection refused`.
///
/// Messages never contain passwords or command arguments (they may hold secrets); they
/// name commands by their name only.
public struct RedisClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that needs to tell them apart.
    public enum Kind: Sendable, Hashable {
        /// A URL or address could not be parsed.
        case invalidAddress
        /// `rediss://` or another TLS request; TLS is not supported yet.
        case tlsNotSupported
        /// The TCP or unix socket connection could not be opened.
        case connectFailed
        /// AUTH or HELLO ... AUTH was refused.
        case authenticationFailed
        /// The connection closed (by the server, the network, or ``RedisConnection/close()``).
        case connectionClosed
        /// No reply within the command timeout; the connection was closed.
        case timeout
        /// The server sent bytes that are not valid RESP.
        case protocolError
        /// The server answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
        case serverError
        /// A reply had a shape the caller did not expect.
        case unexpectedReply
    }

    /// The kind of failure.
    public var kind: Kind
    /// The whole message, ready to show to a person.
    public var message: String
    /// For ``Kind/serverError``: the error reply itself (`WRONGTYPE Operation against ...`).
    public var serverMessage: String?

    /// Creates an error with a complete message.
    public init(_ kind: Kind, _ message: String, serverMessage: String? = nil) {
        self.kind = kind
        self.message = message
        self.serverMessage = serverMessage
    }

    /// The message.
    public var description: String { message }

    /// The error reply's first word (`ERR`, `WRONGTYPE`, `NOAUTH`, `LOADING`...), if any.
    public var serverErrorCode: String? {
        serverMessage.flatMap { $0.split(separator: " ", maxSplits: 1).first.map(String.init) }
    }

    static func server(_ endpoint: RedisEndpoint, _ command: String, _ reply: String) -> RedisClientError {
        RedisClientError(.serverError, "\(endpoint) answered \(command) with an error: \(reply)", serverMessage: reply)
    }

    static func unexpected(_ endpoint: RedisEndpoint, _ command: String, _ reply: RESPValue) -> RedisClientError {
        RedisClientError(.unexpectedReply, "\(endpoint) answered \(command) with an unexpected reply: \(reply.summary)")
    }
}

extension RESPValue {
    /// A short, one-line rendering for error messages.
    var summary: String {
        switch self {
        case .null: return "nil"
        case .array(let a), .set(let a), .push(let a): return "an aggregate of \(a.count) elements"
        case .map(let m): return "a map of \(m.count) pairs"
        default:
            let s = string ?? ""
            return s.count > 60 ? "\"\(s.prefix(60))...\"" : "\"\(s)\""
        }
    }
}
