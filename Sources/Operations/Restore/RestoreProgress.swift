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

    /// What ``done`` and ``total`` count.
    public enum Unit: String, Sendable, Hashable {
        case bytes, keys
    }

    /// The phase.
    public var phase: Phase
    /// What the counts count: bytes, except keys while an RDB base loads.
    public var unit: Unit
    /// Done so far, of ``total``.
    public var done: Int
    /// The whole phase (0 when unknown).
    public var total: Int

    /// Creates a report.
    public init(phase: Phase, done: Int, total: Int, unit: Unit = .bytes) {
        self.phase = phase
        self.unit = unit
        self.done = done
        self.total = total
    }
}
