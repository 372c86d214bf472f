import Foundation

/// `archive prune`: drops whole generations (a base and the streams only it needs) that
/// no kept time needs. The index is rewritten first (durably, under the archive's lock, so
/// no collector may append meanwhile), then the files go: a crash in between leaves only
/// orphan files, never a record without its bytes.
public enum ArchivePrune {
    /// What to keep.
    public enum Keep: Sendable, Hashable {
        /// Every time within this many seconds before now stays restorable.
        case window(Double)
        /// The newest N generations.
        case generations(Int)
    }

    /// What was (or would be) dropped.
    public struct Result: Sendable {
        public var droppedGenerations: [Int] = []
        public var droppedStreams: [Int] = []
        public var freedBytes = 0
        /// The oldest generation kept, and the time from which restores stay possible.
        public var keptFrom: Int?
        public var restorableFrom: Double?
    }

    /// Prunes an archive. Throws when a collector holds it or the index cannot be
    /// rewritten. Blocking: call it off the event loops (``ArchiveIO``).
    public static func run(_ store: any ArchiveStore, keep: Keep, now: Double, dryRun: Bool = false) throws(ArchiveError) -> Result {
        // The writer's lock keeps a collector out while the index is replaced (a dry run
        // changes nothing and needs no lock).
        let writer = dryRun ? nil : try store.openIndexWriter(creating: nil)
        defer { writer?.close() }
        let index = try ArchiveIndex.read(store)
        let generations = index.generations
        var result = Result()
        let keepFrom: ArchiveRecord.Generation?
        switch keep {
        case .generations(let n):
            guard n >= 1 else { throw ArchiveError(.invalidRequest, "--keep must keep at least one generation") }
            keepFrom = generations.count > n ? generations[generations.count - n] : generations.first
        case .window(let seconds):
            // The newest base at or before the window's start serves that time; keep it.
            let start = now - seconds
            keepFrom = generations.last { $0.asOf <= start } ?? generations.first
        }
        guard let keepFrom else { return result }
        result.keptFrom = keepFrom.gen
        result.restorableFrom = keepFrom.asOf
        let dropGens = Set(generations.filter { $0.gen < keepFrom.gen }.map(\.gen))
        let dropStreams = Set(index.streams.map(\.stream).filter { $0 < keepFrom.firstStream })
        guard !dropGens.isEmpty || !dropStreams.isEmpty else { return result }
        result.droppedGenerations = dropGens.sorted()
        result.droppedStreams = dropStreams.sorted()
        var files: [String] = []
        var kept: [ArchiveRecord] = []
        for record in index.records {
            switch record {
            case .generation(let g) where dropGens.contains(g.gen):
                files.append(g.path); result.freedBytes += g.size
            case .stream(let s) where dropStreams.contains(s.stream): break
            case .chunk(let c) where dropStreams.contains(c.stream):
                files.append(c.path); result.freedBytes += c.length
            case .streamEnd(let e) where dropStreams.contains(e.stream): break
            case .sample(let s) where dropStreams.contains(s.stream): break
            case .gap(let g) where g.stream.map(dropStreams.contains) ?? (g.to <= keepFrom.asOf): break
            case .mark(let m) where m.at < keepFrom.asOf: break
            default: kept.append(record)
            }
        }
        if dryRun { return result }
        do { try writer?.replaceAll(with: kept) } catch {
            var failure = error
            failure.message += "; nothing was pruned"
            throw failure
        }
        // The objects go only once the index no longer names them: a crash in between
        // leaves orphans, never a record without its bytes.
        try store.delete(files)
        return result
    }
}
