import RedisClient

/// Bad input to a marketplace operation, or a market in a state the operation cannot use:
/// the message says what was attempted, against which server, and why; the kind is for
/// callers that react differently, and the server is the one concerned. (A purchase the
/// buyer cannot afford is not an error: it is a ``PurchaseOutcome``.)
public struct MarketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The request itself is wrong: an empty or invalid id, a negative price, an option
        /// out of range.
        case invalidRequest
        /// A user or item the operation names does not exist on the server.
        case notFound
        /// The market's data is not what the operation needs (funds that are not a number,
        /// too few users, a reply of an unexpected shape).
        case badState
        /// The server answered a command with an error (also inside EXEC).
        case serverError
    }

    /// The kind.
    public var kind: Kind
    /// The whole explanation.
    public var message: String
    /// The server the operation ran against, when it got that far.
    public var endpoint: RedisEndpoint?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, endpoint: RedisEndpoint? = nil) {
        self.kind = kind
        self.message = message
        self.endpoint = endpoint
    }

    /// The message.
    public var description: String { message }
}
