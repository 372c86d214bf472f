import Synchronization

/// Set from elsewhere (Ctrl-C) to make a long replay stop at the next batch boundary,
/// cleanly: the batch in flight is finished, nothing after it is sent.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates a flag that is not set.
    public init() {}

    /// Asks the replay to stop.
    public func set() { flag.store(true, ordering: .relaxed) }

    /// True once ``set()`` was called.
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}
