/// Follows MULTI/EXEC blocks through a stream of AOF entries: Redis writes a transaction
/// as `MULTI`, its commands, `EXEC`, and a block cut off by the end of a file (or by a
/// restore target) must not be applied.
public struct AOFTransactionTracker: Sendable, Hashable {
    /// A transaction that has begun and not yet ended.
    public struct Open: Sendable, Hashable {
        /// The offset of its MULTI.
        public let offset: Int
        /// Commands queued so far (MULTI not counted).
        public var commands: Int
    }

    /// What an entry did to the transaction state.
    public enum Event: Sendable, Hashable {
        /// Nothing (a command outside a transaction, or an annotation).
        case none
        /// MULTI: a transaction began.
        case began
        /// A command queued inside a transaction.
        case queued
        /// EXEC ended the transaction that began at the given MULTI.
        case committed(Open)
    }

    /// The transaction in progress, if any.
    public private(set) var open: Open?

    /// Creates a tracker outside any transaction.
    public init() {}

    /// True between a MULTI and its EXEC.
    public var isInsideTransaction: Bool { open != nil }

    /// Notes `entry`. Throws `.transaction` for MULTI inside MULTI and for EXEC or DISCARD
    /// without MULTI, which Redis never writes and its loader rejects.
    public mutating func observe(_ entry: AOFEntry) throws(AOFError) -> Event {
        guard entry.isCommand else { return .none }
        if entry.hasName("MULTI") {
            if let open {
                throw AOFError(.transaction, "MULTI inside the transaction that began at byte \(open.offset)", offset: entry.offset)
            }
            open = Open(offset: entry.offset, commands: 0)
            return .began
        }
        if entry.hasName("EXEC") {
            guard let finished = open else {
                throw AOFError(.transaction, "EXEC without MULTI", offset: entry.offset)
            }
            open = nil
            return .committed(finished)
        }
        if entry.hasName("DISCARD") {
            // Redis only writes transactions that ran, so DISCARD has no place in an AOF.
            throw AOFError(.transaction, open == nil ? "DISCARD without MULTI" : "DISCARD in an AOF (Redis writes only executed transactions)",
                           offset: entry.offset)
        }
        if open != nil {
            open!.commands += 1
            return .queued
        }
        return .none
    }
}
