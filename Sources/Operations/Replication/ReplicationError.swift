/// Why a replication check or a failover could not be done: one complete sentence naming
/// the server (name and host:port), what was attempted and the cause. A failover that
/// stopped part-way carries its steps and the state each server was left in.
public struct ReplicationError: Error, Sendable, CustomStringConvertible {
    /// The whole message.
    public var message: String
    /// The failover as far as it got, when a failover stopped part-way.
    public var failover: FailoverReport?

    /// Creates an error with a complete message.
    public init(_ message: String, failover: FailoverReport? = nil) {
        self.message = message
        self.failover = failover
    }

    /// The message.
    public var description: String { message }
}
