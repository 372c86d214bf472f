/// Why a save, rewrite, copy or AOF setup failed: one sentence naming what was attempted,
/// against which server or file, and why, with the error underneath when there is one.
public struct PersistenceError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers and tests that react differently.
    public enum Kind: Sendable, Hashable {
        /// The server refused or reported a failed save or rewrite.
        case failed
        /// A wait ran out of time.
        case timeout
        /// The request does not apply (AOF off for a rewrite, bad option).
        case refused
        /// Files: a dump not readable, a copy that could not be written or verified.
        case file
        /// The connection failed.
        case connection
    }

    /// The kind.
    public var kind: Kind
    /// The whole message.
    public var message: String
    /// The error this one wraps (a client or file error), for callers that look deeper.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
