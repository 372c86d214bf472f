import RESP

/// What went wrong talking to a Redis server, saying what was attempted, against which
/// server, and why: `cannot connect to 127.0.0.1:6390: connection refused`.
///
/// The one error shape of the client: a ``kind`` to branch on, the ``endpoint`` and
/// ``command`` it concerns, the ``underlying`` error (a socket error, a
/// ``RESP/RESPDecodingError``) when there is one, and the whole ``message``. Higher
/// layers map it by these fields, never by parsing the message.
///
/// Messages never contain passwords or command arguments (they may hold secrets); they
/// name commands by their name only. Two errors are equal when every field but
/// ``underlying`` is.
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
        /// The server sent bytes that are not valid RESP, or a reply larger than
        /// ``RedisConnectionConfiguration/maxReplyBytes``.
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
    /// The server concerned, when there is one (not for an unparsable address).
    public var endpoint: RedisEndpoint?
    /// The command's name (`BLPOP`), or `a pipeline of N commands`, when a request failed.
    public var command: String?
    /// What failed underneath: the socket's error, or the ``RESP/RESPDecodingError``
    /// (with its byte offset) of a malformed reply.
    public var underlying: (any Error & Sendable)?

    /// Creates an error with a complete message.
    public init(_ kind: Kind, _ message: String, serverMessage: String? = nil, endpoint: RedisEndpoint? = nil,
                command: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.serverMessage = serverMessage
        self.endpoint = endpoint
        self.command = command
        self.underlying = underlying
    }

    public static func == (a: RedisClientError, b: RedisClientError) -> Bool {
        a.kind == b.kind && a.message == b.message && a.serverMessage == b.serverMessage
            && a.endpoint == b.endpoint && a.command == b.command
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(message)
        hasher.combine(serverMessage)
        hasher.combine(endpoint)
        hasher.combine(command)
    }

    /// The message.
    public var description: String { message }

    /// The error reply's first word (`ERR`, `WRONGTYPE`, `NOAUTH`, `LOADING`...), if any.
    public var serverErrorCode: String? {
        serverMessage.flatMap { $0.split(separator: " ", maxSplits: 1).first.map(String.init) }
    }

    static func server(_ endpoint: RedisEndpoint, _ command: String, _ reply: String) -> RedisClientError {
        RedisClientError(.serverError, "\(endpoint) answered \(command) with an error: \(reply)", serverMessage: reply,
                         endpoint: endpoint, command: command)
    }

    static func unexpected(_ endpoint: RedisEndpoint, _ command: String, _ reply: RESPValue) -> RedisClientError {
        RedisClientError(.unexpectedReply, "\(endpoint) answered \(command) with an unexpected reply: \(reply.summary)",
                         endpoint: endpoint, command: command)
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
