/// What a roll-forward reads: the generation (base) to start from and the streams after
/// it, with the byte limits the sample records give when the AOF carries no `#TS`.
///
/// Planning reads only the index; it refuses targets outside the archive's coverage, in a
/// gap, or before every base, naming what is covered.
public struct RestorePlan: Sendable {
    /// One incr file to read.
    public struct Stream: Sendable {
        /// The archive's stream number.
        public let stream: Int
        /// Its chunks from offset 0, contiguous, in order.
        public let chunks: [ArchiveRecord.Chunk]
        /// Without `#TS`: read no command starting at or after this offset (nil: no limit).
        public let sampleLimit: Int?
        /// The gap that makes the stream stop short of its end, or separates it from the
        /// next stream: replay that needs to read past it fails.
        public let gapAfter: ArchiveRecord.Gap?
        /// Where the chunks stop being contiguous, when they do.
        public let missingFrom: Int?
    }

    /// The archive.
    public let index: ArchiveIndex
    /// Where to stop.
    public let target: ReplayTarget
    /// The base the replay starts from.
    public let generation: ArchiveRecord.Generation
    /// The streams after the base, in order.
    public let streams: [Stream]
    /// True when the streams carry `#TS` annotations (the time map); false when the
    /// sample records stand in for them.
    public let usesTimestamps: Bool
    /// Without `#TS`: the seconds between the two samples around the target (how precise
    /// the cut can be); nil when timestamps are used or the target is not a time.
    public let precision: Double?
    /// The archived time range (unix seconds).
    public let coverage: ClosedRange<Double>
    /// Without `#TS`: when the sample that gives the cut was taken (nil: no such sample).
    public let sampleTime: Double?

    /// The base object's full name, for messages.
    public var baseName: String { index.store.describe(generation.path) }
    /// The chunks the replay may read, in order: for a time target, up to the first
    /// chunk that starts after the target second (its first bytes may still be before the
    /// cut); within a stream cut by a size sample, up to the sample; for marks and
    /// command searches, all of them.
    public var neededChunks: [ArchiveRecord.Chunk] {
        var needed: [ArchiveRecord.Chunk] = []
        let last: Int64? = if case .time(let second, let inclusive) = target { inclusive ? second : second - 1 } else { nil }
        for stream in streams {
            for chunk in stream.chunks {
                if let limit = stream.sampleLimit, chunk.offset >= limit { break }
                needed.append(chunk)
                if let last, let first = chunk.firstTimestamp, first > last { return needed }
            }
        }
        return needed
    }

    /// Bytes of every chunk the plan may read: the progress bar's 100%.
    public var plannedBytes: Int { streams.reduce(0) { $0 + $1.chunks.reduce(0) { $0 + $1.length } } }

    /// Plans a roll-forward of the archive to `target`.
    public static func make(_ index: ArchiveIndex, target: ReplayTarget) throws(RestoreError) -> RestorePlan {
        let generations = index.generations
        guard !generations.isEmpty else {
            throw RestoreError(.notInArchive, "the archive \(index.store.location) holds no base yet: nothing to restore from")
        }
        let coverage = Self.coverage(index)
        let range = "the archive covers \(TimeFormat.text(coverage.lowerBound)) to \(TimeFormat.text(coverage.upperBound))"

        // The moment (exclusive) before which every write to apply was made.
        let cutoff: Double?
        switch target {
        case .time(let second, let inclusive):
            cutoff = Double(second) + (inclusive ? 1 : 0)
            if Double(second) > coverage.upperBound {
                throw RestoreError(.notInArchive, "\(TimeFormat.text(Double(second))) is after the archived time: \(range)")
            }
        case .beforeFirst(_, let notBefore):
            cutoff = Double(notBefore)
            if Double(notBefore) > coverage.upperBound {
                throw RestoreError(.notInArchive, "\(TimeFormat.text(Double(notBefore))) is after the archived time: \(range)")
            }
        case .latest, .mark, .offset:
            cutoff = nil
        }

        let generation: ArchiveRecord.Generation
        switch target {
        case .time, .beforeFirst:
            // Searching for the first FLUSHALL from a moment before the first base: the
            // search starts at that base (what came before it cannot be replayed anyway).
            let searchFromFirstBase: ArchiveRecord.Generation? = if case .beforeFirst = target { generations.first } else { nil }
            guard let g = generations.last(where: { $0.asOf <= cutoff! }) ?? searchFromFirstBase else {
                let when = Double(target.timeSecond ?? 0)
                throw RestoreError(.notInArchive, "\(TimeFormat.text(when)) is before the archive's first base (as of \(TimeFormat.text(generations[0].asOf))): \(range)")
            }
            generation = g
            // A gap refuses the seconds it covers only where the chosen base's streams
            // cross it: a newer base taken after the gap serves its own times whole.
            if case .time(let second, _) = target,
               let gap = index.gaps.first(where: { $0.from <= Double(second) && Double(second) < $0.to && Self.gap($0, follows: g, in: index) }) {
                throw RestoreError(.notInArchive, "\(TimeFormat.text(Double(second))) lies in a gap of the archive (\(TimeFormat.text(gap.from)) to \(TimeFormat.text(gap.to)): \(gap.reason)); \(range)")
            }
        case .latest:
            generation = generations.last!
        case .mark(let name):
            guard let mark = index.marks.last(where: { $0.name == name }) else {
                let known = index.marks.map(\.name)
                throw RestoreError(.notInArchive, "the archive has no mark \"\(name)\"" + (known.isEmpty ? " (it has no marks)" : " (marks: \(known.joined(separator: ", ")))"))
            }
            guard let g = generations.last(where: { $0.asOf < mark.at }) else {
                throw RestoreError(.notInArchive, "the mark \"\(name)\" (\(TimeFormat.text(mark.at))) is before the archive's first base")
            }
            generation = g
        case .offset(let gen, let stream, _):
            guard let g = generations.first(where: { $0.gen == gen }) else {
                throw RestoreError(.notInArchive, "the archive has no generation \(gen) (generations \(generations.map { String($0.gen) }.joined(separator: ", ")))")
            }
            guard stream >= g.firstStream, index.streams.contains(where: { $0.stream == stream }) else {
                throw RestoreError(.notInArchive, "stream \(stream) does not follow generation \(gen)'s base (its streams start at \(g.firstStream))")
            }
            generation = g
        }

        let streamNumbers = index.streams.map(\.stream).filter { $0 >= generation.firstStream }.sorted()
        let positions = Self.recordPositions(index)
        var usesTimestamps = false
        var planned: [Stream] = []
        for (i, number) in streamNumbers.enumerated() {
            let chunks = index.chunks(of: number)
            var contiguous: [ArchiveRecord.Chunk] = []
            var end = 0
            var missingFrom: Int?
            for chunk in chunks {
                if chunk.offset == end { contiguous.append(chunk); end = chunk.end }
                else if chunk.offset > end { missingFrom = end; break }
            }
            if contiguous.contains(where: { $0.firstTimestamp != nil }) { usesTimestamps = true }
            let next = i + 1 < streamNumbers.count ? streamNumbers[i + 1] : nil
            var gapAfter = index.gaps.first { $0.stream == number }
            if gapAfter == nil, let next, let here = positions.stream[number], let there = positions.stream[next] {
                // A gap recorded between the two streams' records separates them.
                gapAfter = positions.gaps.first { $0.position > here && $0.position < there && $0.gap.stream == nil }?.gap
            }
            if let endSize = index.endSize(of: number), end < endSize, missingFrom == nil, next != nil { missingFrom = end }
            planned.append(Stream(stream: number, chunks: contiguous, sampleLimit: nil, gapAfter: gapAfter, missingFrom: missingFrom))
        }

        var precision: Double?
        var sampleTime: Double?
        if let cutoff, !usesTimestamps {
            (planned, precision, sampleTime) = Self.applySamples(index, planned, cutoff: cutoff)
        }
        return RestorePlan(index: index, target: target, generation: generation, streams: planned,
                           usesTimestamps: usesTimestamps, precision: precision, coverage: coverage, sampleTime: sampleTime)
    }

    /// The archived time: from the first base's as-of time to the last copy or sample.
    public static func coverage(_ index: ArchiveIndex) -> ClosedRange<Double> {
        let start = index.generations.map(\.asOf).min() ?? 0
        var end = start
        for record in index.records {
            switch record {
            case .chunk(let c): end = max(end, c.copiedAt)
            case .sample(let s): end = max(end, s.at)
            case .streamEnd(let e): end = max(end, e.at)
            case .generation(let g): end = max(end, g.asOf)
            default: break
            }
        }
        return start...end
    }

    /// Without `#TS`, the sample records are the time map: a stream whose successor was
    /// opened (or which ended) before the cutoff is read whole; in the stream being
    /// written at the cutoff, reading stops at the size of the last sample before it.
    static func applySamples(_ index: ArchiveIndex, _ streams: [Stream], cutoff: Double) -> ([Stream], Double?, Double?) {
        var result: [Stream] = []
        var precision: Double?
        var sampleTime: Double?
        var cut = false
        for (i, s) in streams.enumerated() {
            if cut { result.append(Stream(stream: s.stream, chunks: s.chunks, sampleLimit: 0, gapAfter: s.gapAfter, missingFrom: s.missingFrom)); continue }
            let nextOpened = i + 1 < streams.count ? index.streams.first { $0.stream == streams[i + 1].stream }?.openedBy : nil
            let ended = index.streamEnds.first { $0.stream == s.stream }?.at
            if let done = [nextOpened, ended].compactMap({ $0 }).min(), done <= cutoff {
                result.append(s)
                continue
            }
            let samples = index.samples.filter { $0.stream == s.stream }
            let before = samples.filter { $0.at <= cutoff }.max { $0.at < $1.at }
            let after = samples.filter { $0.at > cutoff }.min { $0.at < $1.at }
            let opened = index.streams.first { $0.stream == s.stream }?.openedBy
            let lower = before?.at ?? opened ?? cutoff
            let upper = after?.at ?? [nextOpened, ended].compactMap { $0 }.min() ?? cutoff
            precision = max(0, upper - lower)
            sampleTime = before?.at
            result.append(Stream(stream: s.stream, chunks: s.chunks, sampleLimit: before?.size ?? 0, gapAfter: s.gapAfter, missingFrom: s.missingFrom))
            cut = true
        }
        return (result, precision, sampleTime)
    }

    /// True when `gap` lies in what a replay from `generation` reads: on one of its
    /// streams, or (a gap between streams) recorded after the generation.
    static func gap(_ gap: ArchiveRecord.Gap, follows generation: ArchiveRecord.Generation, in index: ArchiveIndex) -> Bool {
        if let stream = gap.stream { return stream >= generation.firstStream }
        guard let gapAt = index.records.firstIndex(of: .gap(gap)),
              let genAt = index.records.firstIndex(of: .generation(generation)) else { return true }
        return gapAt > genAt
    }

    private static func recordPositions(_ index: ArchiveIndex) -> (stream: [Int: Int], gaps: [(position: Int, gap: ArchiveRecord.Gap)]) {
        var streams: [Int: Int] = [:]
        var gaps: [(Int, ArchiveRecord.Gap)] = []
        for (i, record) in index.records.enumerated() {
            if case .stream(let s) = record { streams[s.stream] = i }
            if case .gap(let g) = record { gaps.append((i, g)) }
        }
        return (streams, gaps)
    }
}

extension ReplayTarget {
    /// The second a time-like target names.
    var timeSecond: Int64? {
        switch self {
        case .time(let s, _): return s
        case .beforeFirst(_, let s): return s
        default: return nil
        }
    }
}
