import RedisClient

/// A restore drill that could not be run to a verdict: what was attempted, against which
/// server or archive, why, and the error underneath.
public struct ArchiveDrillError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The request is wrong (a bound, the live server as the scratch server).
        case invalidRequest
        /// The live server cannot be drilled (no `CLIENT PAUSE WRITE` before Redis 6.2,
        /// too many keys to capture within the allowed pause).
        case unsupported
        /// The live server failed or went away.
        case live
        /// The archive could not be read, or does not protect the live server.
        case archive
        /// The mark did not reach the archive within the timeout.
        case markNotArchived
        /// The restore into the scratch server failed (``underlying`` is the ``RestoreError``).
        case restore
        /// The scratch server failed (could not be read after the restore).
        case scratch
        /// The whole drill ran out of time.
        case timeout
    }

    /// The kind.
    public var kind: Kind
    /// The message: what, against what, why.
    public var message: String
    /// What failed underneath (a ``RestoreError``, ``ArchiveError``, ``RedisClientError``).
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
