import Synchronization

/// What a client has read so far: how many GETs it sent and the bytes their answers
/// carried. For figures and tests (an object read once, not twice); thread-safe.
public final class S3ClientStatistics: Sendable {
    private let getCount = Atomic<Int>(0)
    private let getByteCount = Atomic<Int>(0)

    /// Starts at zero.
    public init() {}

    /// GET requests sent (whole, ranged or streamed), answered or not.
    public var gets: Int { getCount.load(ordering: .relaxed) }
    /// Body bytes received by those GETs.
    public var bytesReceived: Int { getByteCount.load(ordering: .relaxed) }

    func countGet() { getCount.add(1, ordering: .relaxed) }
    func countReceived(_ bytes: Int) { getByteCount.add(bytes, ordering: .relaxed) }
}
