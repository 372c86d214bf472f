import NIOConcurrencyHelpers

/// The bound on what a replica link has received and the collector has not yet taken:
/// above ``limit`` bytes the link stops reading its socket, so a slow archive makes the
/// master hold the stream in its output buffer for this replica (where
/// `client-output-buffer-limit replica` applies and may cut the link, a clear and
/// recoverable outcome) instead of the collector growing without bound.
///
/// One per collector run, shared by its successive links, so ``peak`` covers the run.
public final class ReplicaFlow: Sendable {
    /// The bytes held before the link stops reading (one socket read more may arrive).
    public let limit: Int
    private let counts = NIOLockedValueBox((held: 0, peak: 0))

    /// The default bound: 8 MB, a few seconds of a busy master.
    public static let defaultLimit = 8 << 20

    public init(limit: Int = ReplicaFlow.defaultLimit) { self.limit = max(1, limit) }

    /// Bytes received and not yet taken by the collector.
    public var held: Int { counts.withLockedValue { $0.held } }
    /// The most ever held at once.
    public var peak: Int { counts.withLockedValue { $0.peak } }
    /// True while the link must not read more.
    var isFull: Bool { counts.withLockedValue { $0.held >= limit } }

    /// The link delivered `bytes`.
    func hold(_ bytes: Int) {
        counts.withLockedValue { c in
            c.held += bytes
            c.peak = max(c.peak, c.held)
        }
    }

    /// The collector took `bytes`; true when that brought the count back under the limit
    /// (the link may read again).
    @discardableResult
    func release(_ bytes: Int) -> Bool {
        counts.withLockedValue { c in
            let wasFull = c.held >= limit
            c.held = max(0, c.held - bytes)
            return wasFull && c.held < limit
        }
    }

    /// A link ended: what it delivered and nobody will take is no longer held.
    func reset() { counts.withLockedValue { $0.held = 0 } }
}

extension ReplicaEvent {
    /// The bytes this event holds in memory (what ``ReplicaFlow`` counts).
    var heldBytes: Int {
        switch self {
        case .rdbBytes(let bytes): bytes.readableBytes
        case .command(let command): command.bytes.readableBytes
        case .fullResync, .continued, .rdbStart, .rdbEnd: 0
        }
    }
}
