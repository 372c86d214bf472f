import Histogram

/// Latencies of one client's calls, in nanoseconds, in an HdrHistogram (3 significant
/// digits, up to a minute), merged across clients at the end.
public struct LatencyRecorder: Sendable {
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    /// An empty recorder.
    public init() {}

    /// Records one call that took `duration`.
    public mutating func record(_ duration: Duration) {
        let nanos = max(1, duration.wholeNanoseconds)
        _ = histogram.record(UInt64(min(nanos, 60_000_000_000)))
    }

    /// Adds another client's latencies.
    public mutating func add(_ other: LatencyRecorder) { histogram.add(other.histogram) }

    /// Calls recorded.
    public var count: Int { Int(histogram.totalCount) }

    /// The latency at `percentile` (0...100), in microseconds; nil when nothing was recorded.
    public func microseconds(at percentile: Double) -> Double? {
        count == 0 ? nil : Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}
