/// Why a save, rewrite, copy or AOF setup failed: one sentence naming what was attempted,
/// against which server or file, and why.
public struct PersistenceError: Error, Sendable, Hashable, CustomStringConvertible {
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

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
