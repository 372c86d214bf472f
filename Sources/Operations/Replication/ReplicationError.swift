/// Why a replication check or a failover could not be done: one complete sentence naming
/// the server (name and host:port), what was attempted and the cause; the kind, for callers
/// that react differently; the server concerned; and the underlying error when there was
/// one. A failover that stopped part-way carries its steps and the state each server was
/// left in.
public struct ReplicationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The request itself is wrong (a `--timeout` out of range, the same server named
        /// twice, no replica named, a unix socket where a TCP address is needed).
        case invalidRequest
        /// A server could not be reached or did not answer at all.
        case connection
        /// A server did not answer, or the operation did not finish, within its time limit.
        case timeout
        /// A server answered a command with an error.
        case refused
        /// A server's role is not what the operation needs (not a replica, a replica where
        /// a master is needed, following another master, a master with replicas of its own).
        case wrongRole
        /// A safety check refused: the lag is unknown or the link down (without `--force`),
        /// or going on would leave two masters.
        case unsafe
        /// Sentinel does not know the master, or reported no new master.
        case sentinel
        /// The data of two servers differs after a copy.
        case mismatch
        /// A dump could not be read, written or renamed.
        case files
        /// A failover stopped part-way (see ``failover``): some steps ran and were undone.
        case stopped
    }

    /// The kind.
    public var kind: Kind
    /// The whole message.
    public var message: String
    /// The server concerned (`name (host:port)`), when one is.
    public var server: String?
    /// The failover as far as it got, when a failover stopped part-way.
    public var failover: FailoverReport?
    /// What failed underneath, when anything did.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, server: String? = nil, failover: FailoverReport? = nil,
                underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.server = server
        self.failover = failover
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }
}
