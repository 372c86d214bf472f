/// What an archive covers, for `archive timeline`: its generations with the time each
/// one serves, gaps, marks, sizes, and how many writes were archived per time bucket.
public struct ArchiveTimeline: Sendable {
    /// One base and the streams that follow it until the next base.
    public struct Span: Sendable {
        public let gen: Int
        public let format: BaseFormat
        /// Restores to a time from `from` to `until` start from this base.
        public let from: Double
        public let until: Double
        public let streams: [Int]
        /// Base bytes plus the bytes of its streams' chunks.
        public let bytes: Int
        /// Commands in its streams' chunks.
        public let commands: Int
    }

    /// The generations, oldest first.
    public let spans: [Span]
    /// The archived time.
    public let coverage: ClosedRange<Double>
    public let gaps: [ArchiveRecord.Gap]
    public let marks: [ArchiveRecord.Mark]
    /// Bytes of every base and chunk.
    public let bytes: Int
    /// Seconds per bucket of ``writes``.
    public let bucketSeconds: Int
    /// Commands archived per bucket, from the start of the coverage.
    public let writes: [Int]

    /// Summarizes an archive's index (no file is read).
    public static func make(_ index: ArchiveIndex, maxBuckets: Int = 60) -> ArchiveTimeline {
        let coverage = RestorePlan.coverage(index)
        let generations = index.generations
        let streamNumbers = index.streams.map(\.stream).sorted()
        var spans: [Span] = []
        for (i, g) in generations.enumerated() {
            let next = i + 1 < generations.count ? generations[i + 1] : nil
            let streams = streamNumbers.filter { $0 >= g.firstStream && (next == nil || $0 < next!.firstStream) }
            let chunks = index.chunks.filter { streams.contains($0.stream) }
            spans.append(Span(gen: g.gen, format: g.format, from: g.asOf, until: next?.asOf ?? coverage.upperBound, streams: streams,
                              bytes: g.size + chunks.reduce(0) { $0 + $1.length }, commands: chunks.reduce(0) { $0 + $1.commands }))
        }
        let span = max(1, coverage.upperBound - coverage.lowerBound)
        let minutes = Int((span / 60).rounded(.up))
        let bucket = 60 * max(1, (minutes + maxBuckets - 1) / maxBuckets)
        var writes = [Int](repeating: 0, count: max(1, Int((span / Double(bucket)).rounded(.up))))
        for chunk in index.chunks {
            let when = chunk.lastTimestamp.map(Double.init) ?? chunk.copiedAt
            let slot = min(writes.count - 1, max(0, Int((when - coverage.lowerBound) / Double(bucket))))
            writes[slot] += chunk.commands
        }
        let bytes = generations.reduce(0) { $0 + $1.size } + index.chunks.reduce(0) { $0 + $1.length }
        return ArchiveTimeline(spans: spans, coverage: coverage, gaps: index.gaps, marks: index.marks, bytes: bytes,
                               bucketSeconds: bucket, writes: writes)
    }

    /// The writes as a sparkline (`▁▂▃▄▅▆▇█`), one character per bucket.
    public var sparkline: String {
        let levels = Array("▁▂▃▄▅▆▇█")
        let top = max(1, writes.max() ?? 1)
        return String(writes.map { $0 == 0 ? " " : levels[min(levels.count - 1, ($0 * levels.count - 1) / top)] })
    }
}
