/// The replication link of a collector started with `--replica`, as `chunk status` shows it.
public struct ReplicaLinkStatus: Sendable, Hashable {
    /// What the link is doing.
    public enum State: String, Sendable, Hashable {
        /// Connecting or in the handshake.
        case connecting
        /// Receiving the RDB of a full sync.
        case fullSync = "full-sync"
        /// Receiving the command stream.
        case streaming
        /// Down; the collector retries after a pause.
        case down
    }

    public var state: State
    /// The master's replication id being followed.
    public var replicationId: String?
    /// The replication offset after the last message received.
    public var offset: Int
    /// The offset up to which everything is in the archive (what REPLCONF ACK reports).
    public var archivedOffset: Int
    /// Bytes received and not yet archived, and for how long the oldest of them waits.
    public var lagBytes: Int
    public var lagSeconds: Double
    /// Full syncs (each a new generation) and continuations (`+CONTINUE`) since the start.
    public var fullSyncs: Int
    public var resumes: Int
    /// Bytes of the RDB received in the full sync under way.
    public var rdbBytes: Int
    /// Bytes received and not yet taken by the archiver, now and at most since the start:
    /// bounded by ``ReplicaFlow/limit`` (and one socket read), beyond which the link stops
    /// reading and the master holds the stream.
    public var heldBytes: Int
    public var peakHeldBytes: Int

    public init() {
        state = .connecting
        replicationId = nil
        offset = 0
        archivedOffset = 0
        lagBytes = 0
        lagSeconds = 0
        fullSyncs = 0
        resumes = 0
        rdbBytes = 0
        heldBytes = 0
        peakHeldBytes = 0
    }
}
