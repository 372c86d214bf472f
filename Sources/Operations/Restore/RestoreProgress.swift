/// How far a restore has got, reported as it runs (for a progress bar).
public struct RestoreProgress: Sendable, Hashable {
    /// What a restore is doing.
    public enum Phase: String, Sendable, Hashable {
        /// Checking the size and sha256 of every object the plan needs (bytes).
        case checking = "checking the archive"
        /// Loading the base (bytes of an AOF base, keys of an RDB base).
        case base = "loading the base"
        /// Sending or writing the incr stream (archive bytes).
        case stream = "rolling forward"
    }

    /// The phase.
    public var phase: Phase
    /// Done so far, of ``total``.
    public var done: Int
    /// The whole phase (0 when unknown).
    public var total: Int

    /// Creates a report.
    public init(phase: Phase, done: Int, total: Int) {
        self.phase = phase
        self.done = done
        self.total = total
    }
}
