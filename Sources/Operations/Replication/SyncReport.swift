/// Whether a replica's append-only file was confirmed on disk after the token reached it.
public enum FsyncOutcome: Sendable, Hashable {
    /// `--fsync` was not asked for.
    case notAsked
    /// Confirmed, by `method`, `micros` after the token was seen on the replica.
    case confirmed(method: String, micros: Int)
    /// Not confirmed, and why.
    case notConfirmed(String)
    /// The replica runs without an AOF (`appendonly no`): nothing to fsync.
    case noAOF
}

/// What verify-sync found for one replica.
public struct ReplicaSyncResult: Sendable {
    /// The replica's name (connection name).
    public var name: String
    /// Its address.
    public var address: String
    /// `up`, `down`, or `unreachable`.
    public var link: String
    /// Its master's address as it reports it.
    public var upstream: String?
    /// 1 for a replica of the master, 2 for a replica of one of those, ...; nil when the
    /// chain runs through servers not named.
    public var level: Int?
    /// The master's offset minus the replica's, in bytes, before the token was written.
    public var offsetLag: Int?
    /// Microseconds from the master acknowledging the token to the replica answering it.
    public var seenMicros: Int?
    /// The fsync confirmation (``FsyncOutcome/notAsked`` without `--fsync`).
    public var fsync: FsyncOutcome
    /// What went wrong for this replica, if anything.
    public var problem: String?

    /// The token was seen and, when asked for, the fsync confirmed.
    public var ok: Bool {
        guard problem == nil, seenMicros != nil else { return false }
        switch fsync {
        case .notAsked, .confirmed: return true
        case .notConfirmed, .noAOF: return false
        }
    }
}

/// What verify-sync found: the token, how the replicas were waited for, each replica.
public struct SyncReport: Sendable {
    /// The master's name and address.
    public var master: String
    /// The master's address.
    public var masterAddress: String
    /// The unique token written to the `sync:wait` sorted set.
    public var token: String
    /// `WAIT` when the server's WAIT covered the direct replicas, else `polling`.
    public var method: String
    /// WAIT's answer: how many replicas acknowledged the token's offset (nil without WAIT).
    public var waitAcknowledged: Int?
    /// One result per replica, in the order given.
    public var replicas: [ReplicaSyncResult]
    /// Microseconds the whole check took.
    public var totalMicros: Int

    /// Every replica saw the token (and confirmed its fsync when asked).
    public var ok: Bool { replicas.allSatisfy(\.ok) }
}
