import AOF
import Foundation

/// One entry to apply, with where it is in the archive.
public struct ReplayEntry: Sendable {
    /// The command or annotation (its bytes are exactly the archived bytes).
    public let entry: AOFEntry
    /// The stream it is in.
    public let stream: Int
    /// Its offset in the stream's incr file.
    public let offset: Int
}

/// Walks a plan's streams chunk by chunk and hands out, in order, the entries to apply up
/// to the target: a chunk's sha256 is checked before any of its bytes are used, a MULTI
/// block is held back until its EXEC (and dropped when the cut or the archive's end comes
/// first), and a truncated last command is left out. Memory: one chunk reader's block plus
/// the transaction being held.
public final class ReplayCursor {
    /// The plan.
    public let plan: RestorePlan
    /// What was handed out and left out so far.
    public private(set) var outcome: ReplayOutcome

    private var streamIndex = 0
    private var chunkIndex = 0
    private var reader: AOFFileReader?
    private var chunk: ArchiveRecord.Chunk?
    private var tracker = AOFTransactionTracker()
    private var held: [ReplayEntry] = []
    private var released: [ReplayEntry] = []
    private var releasedIndex = 0
    private var timestamp: Int64?
    private var finished = false
    private let markKey: String?
    /// Bytes read so far (for progress).
    public private(set) var bytesRead = 0

    /// Starts before the first entry of the plan's first stream.
    public init(_ plan: RestorePlan) {
        self.plan = plan
        self.outcome = ReplayOutcome(generation: plan.generation.gen)
        if case .mark(let name) = plan.target { markKey = ArchiveRecord.Mark.key(for: name) } else { markKey = nil }
    }

    /// The next entry to apply, nil at the cut. Commands and `#` annotations both come out
    /// (a connection skips annotations, an AOF file keeps them). Throws for a chunk whose
    /// bytes are missing, differ from their sha256 or do not parse, and for a gap the
    /// replay would have to cross; everything handed out before stays valid.
    public func next() throws(RestoreError) -> ReplayEntry? {
        while true {
            if releasedIndex < released.count {
                let e = released[releasedIndex]
                releasedIndex += 1
                if releasedIndex == released.count { released.removeAll(keepingCapacity: true); releasedIndex = 0 }
                note(e)
                return e
            }
            if finished { return nil }
            guard let e = try readEntry() else {
                if let open = tracker.open, let first = held.first {
                    outcome.rolledBack.append(.init(at: .init(stream: first.stream, offset: first.offset),
                                                    commands: open.commands, reason: "the archive ends before its EXEC"))
                    held.removeAll()
                }
                finished = true
                return nil
            }
            if let reason = stopReason(e) {
                stop(at: e, reason: reason)
                return nil
            }
            if case .timestamp(let ts) = e.entry.kind { timestamp = ts }
            let event: AOFTransactionTracker.Event
            do { event = try tracker.observe(e.entry) } catch {
                throw RestoreError("stream \(e.stream) byte \(e.offset): \(error)", progress: outcome)
            }
            switch event {
            case .none:
                if tracker.isInsideTransaction { held.append(e); continue }  // an annotation inside a block
                note(e)
                return e
            case .began, .queued:
                held.append(e)
            case .committed:
                held.append(e)
                outcome.transactions += 1
                swap(&held, &released)
                releasedIndex = 0
            }
        }
    }

    private func note(_ e: ReplayEntry) {
        guard e.entry.isCommand else { return }
        outcome.commands += 1
        outcome.bytes += e.entry.length
        if outcome.firstTimestamp == nil { outcome.firstTimestamp = timestamp }
        outcome.lastTimestamp = timestamp
    }

    private func stop(at e: ReplayEntry, reason: String) {
        finished = true
        var at = ReplayOutcome.Position(stream: e.stream, offset: e.offset)
        if let open = tracker.open, let first = held.first {
            at = .init(stream: first.stream, offset: first.offset)
            outcome.rolledBack.append(.init(at: at, commands: open.commands, reason: "its EXEC lies beyond the cut (\(reason))"))
            held.removeAll()
        }
        outcome.stoppedAt = at
        outcome.stopReason = reason
    }

    /// Why the replay stops before `e`, if it does.
    private func stopReason(_ e: ReplayEntry) -> String? {
        let stream = plan.streams[streamIndex]
        if let limit = stream.sampleLimit, e.offset >= limit, !isBeforeFirst {
            return "the last size sample at or before the target"
        }
        switch plan.target {
        case .time(let second, let inclusive):
            if case .timestamp(let ts) = e.entry.kind, inclusive ? ts > second : ts >= second {
                return "first #TS after the target (\(ts))"
            }
        case .latest:
            break
        case .mark(let name):
            if e.entry.isCommand, e.entry.argumentCount >= 2, e.entry.argument(1) == markKey {
                return "the write of mark \(name)"
            }
        case .beforeFirst(let commands, let notBefore):
            guard e.entry.isCommand else { return nil }
            let reached: Bool
            if plan.usesTimestamps { reached = (timestamp ?? Int64.min) >= notBefore }
            else if let limit = stream.sampleLimit { reached = e.offset >= limit }
            else { reached = false }
            if reached, commands.contains(e.entry.name) { return "the first \(e.entry.name) at or after the target" }
        case .offset(_, let s, let bytes):
            if e.stream > s || (e.stream == s && e.offset + e.entry.length > bytes) { return "the target offset" }
        }
        return nil
    }

    private var isBeforeFirst: Bool { if case .beforeFirst = plan.target { true } else { false } }

    /// The next raw entry of the plan's streams, opening (and checking) chunks as needed.
    private func readEntry() throws(RestoreError) -> ReplayEntry? {
        while true {
            if let reader, let chunk {
                let entry: AOFEntry?
                do { entry = try reader.next() } catch {
                    throw RestoreError("chunk \(plan.index.layout.absolute(chunk.path)) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end)) does not parse: \(error); nothing past it applied", progress: outcome)
                }
                if let entry {
                    return ReplayEntry(entry: entry, stream: chunk.stream, offset: chunk.offset + entry.offset)
                }
                let stream = plan.streams[streamIndex]
                if reader.pendingBytes > 0 {
                    let isLast = streamIndex == plan.streams.count - 1 && chunkIndex == stream.chunks.count - 1
                    let at = ReplayOutcome.Position(stream: chunk.stream, offset: chunk.offset + reader.offset)
                    guard isLast else {
                        throw RestoreError("chunk \(plan.index.layout.absolute(chunk.path)) ends inside a command at \(at) (\(reader.pendingBytes) bytes); nothing past it applied", progress: outcome)
                    }
                    outcome.truncated = .init(at: at, bytes: reader.pendingBytes)
                }
                self.reader = nil
                self.chunk = nil
                chunkIndex += 1
                continue
            }
            guard streamIndex < plan.streams.count else { return nil }
            let stream = plan.streams[streamIndex]
            if let limit = stream.sampleLimit, !isBeforeFirst, chunkIndex < stream.chunks.count, stream.chunks[chunkIndex].offset >= limit {
                // Everything after the limit is beyond the target: stop without reading it.
                finished = true
                outcome.stoppedAt = .init(stream: stream.stream, offset: stream.chunks[chunkIndex].offset)
                outcome.stopReason = "the last size sample at or before the target"
                if let open = tracker.open, let first = held.first {
                    outcome.rolledBack.append(.init(at: .init(stream: first.stream, offset: first.offset), commands: open.commands,
                                                    reason: "its EXEC lies beyond the cut"))
                    held.removeAll()
                }
                return nil
            }
            if chunkIndex >= stream.chunks.count {
                if streamIndex + 1 < plan.streams.count {
                    if let gap = stream.gapAfter {
                        if let cutoff = cutoff, gap.from >= cutoff { return nil }  // the gap starts after the target
                        throw RestoreError("cannot replay past the gap after stream \(stream.stream) (\(TimeFormat.text(gap.from)) to \(TimeFormat.text(gap.to)): \(gap.reason)); applied up to stream \(stream.stream) byte \(stream.chunks.last?.end ?? 0)", progress: outcome)
                    }
                    if let missing = stream.missingFrom {
                        throw RestoreError("stream \(stream.stream) is missing its bytes from \(missing) on in the archive; cannot replay past them (applied up to that byte)", progress: outcome)
                    }
                }
                streamIndex += 1
                chunkIndex = 0
                continue
            }
            let next = stream.chunks[chunkIndex]
            try check(next)
            do {
                reader = try AOFFileReader(path: plan.index.layout.absolute(next.path))
            } catch {
                throw RestoreError("cannot read chunk \(plan.index.layout.absolute(next.path)): \(error)", progress: outcome)
            }
            chunk = next
            bytesRead += next.length
        }
    }

    /// The moment before which every applied write was made, for time targets.
    private var cutoff: Double? {
        switch plan.target {
        case .time(let s, let inclusive): return Double(s) + (inclusive ? 1 : 0)
        case .beforeFirst: return nil
        default: return nil
        }
    }

    /// A chunk's file must exist, have its recorded length and sha256.
    private func check(_ chunk: ArchiveRecord.Chunk) throws(RestoreError) {
        let path = plan.index.layout.absolute(chunk.path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else {
            throw RestoreError("chunk \(path) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end)) is missing; nothing past stream \(chunk.stream) byte \(chunk.offset) applied", progress: outcome)
        }
        guard size == chunk.length else {
            throw RestoreError("chunk \(path) has \(size) bytes, the index says \(chunk.length); nothing past stream \(chunk.stream) byte \(chunk.offset) applied", progress: outcome)
        }
        let digest: String
        do { digest = try DurableFile.sha256(ofFile: path) } catch {
            throw RestoreError("cannot read chunk \(path): \(error.reason)", progress: outcome)
        }
        guard digest == chunk.sha256 else {
            throw RestoreError("chunk \(path) does not match its sha256 (index \(chunk.sha256.prefix(12))..., file \(digest.prefix(12))...); nothing past stream \(chunk.stream) byte \(chunk.offset) applied", progress: outcome)
        }
    }
}
