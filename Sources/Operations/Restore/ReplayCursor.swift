import AOF
import Foundation
import NIOCore

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
/// first), and a truncated last command is left out. Memory: one chunk (at most
/// ``ChunkPrefetcher/wholeChunkLimit``; larger ones are read from a spool file a block at
/// a time) plus the transaction being held.
public final class ReplayCursor {
    /// The plan.
    public let plan: RestorePlan
    /// What was handed out and left out so far.
    public private(set) var outcome: ReplayOutcome

    private var streamIndex = 0
    private var chunkIndex = 0
    private var reader: AOFFileReader?
    private var chunk: ArchiveRecord.Chunk?
    private var chunkStream = 0
    /// What to add to the reader's offsets to get the stream's: the chunk's offset in its
    /// stream, less where its bytes start in the spool file when read from there.
    private var chunkOffset = 0
    /// The spool region the reader reads, kept (and its file open) until the chunk is done.
    private var spooled: SpooledBytes?
    /// An entry the fast path read but left to the transaction machinery.
    private var pushedBack: ReplayEntry?
    private var tracker = AOFTransactionTracker()
    private var held: [ReplayEntry] = []
    private var released: [ReplayEntry] = []
    private var releasedIndex = 0
    private var timestamp: Int64?
    private var finished = false
    private let markKey: String?
    /// The target, reduced to what the per-entry check needs (no copies of the plan).
    private enum Kind { case latest, time, mark, beforeFirst, offset }
    private let kind: Kind
    /// Time targets: the last #TS second that may be applied.
    private let lastSecond: Int64
    /// The sample limit of the stream being read (Int.max: none).
    private var limit = Int.max
    /// Bytes read so far (for progress).
    public private(set) var bytesRead = 0
    /// For a writer that keeps the bytes as they are (an AOF file): offered every chunk
    /// (its bytes already checked) whose entries all lie before the cut while no
    /// transaction is open. It copies the chunk whole and returns true, or returns false
    /// to have the chunk read entry by entry (when it holds a MULTI, say). Nil: every
    /// chunk is read entry by entry.
    public var wholeChunkCopier: ((ArchiveRecord.Chunk, ByteBuffer) throws(RestoreError) -> Bool)?
    /// Set by a replay into a connection without `--ttl-as-of-target`: the applied commands
    /// whose absolute expiry lies in it are counted in the outcome's
    /// ``ReplayOutcome/incrExpiriesPassedSinceTarget``.
    var passedExpiries: PassedExpiryWindow?
    /// Reads and checks the plan's chunks ahead, on its own thread.
    private let prefetcher: ChunkPrefetcher

    /// Starts before the first entry of the plan's first stream.
    public convenience init(_ plan: RestorePlan, prefetch ahead: Int = 2) {
        self.init(plan, prefetch: ahead, checked: nil)
    }

    /// Starts before the first entry, taking the chunks `checked` holds from there
    /// instead of reading them again.
    init(_ plan: RestorePlan, prefetch ahead: Int = 2, checked: CheckedObjects?, spoolFolder: String? = nil) {
        self.plan = plan
        self.prefetcher = ChunkPrefetcher(chunks: plan.streams.flatMap(\.chunks), store: plan.index.store, ahead: ahead, checked: checked,
                                          spoolFolder: spoolFolder)
        self.outcome = ReplayOutcome(generation: plan.generation.gen)
        if case .mark(let name) = plan.target { markKey = ArchiveRecord.Mark.key(for: name) } else { markKey = nil }
        switch plan.target {
        case .latest: kind = .latest; lastSecond = .max
        case .time(let second, let inclusive): kind = .time; lastSecond = inclusive ? second : second - 1
        case .mark: kind = .mark; lastSecond = .max
        case .beforeFirst: kind = .beforeFirst; lastSecond = .max
        case .offset: kind = .offset; lastSecond = .max
        }
    }

    deinit { prefetcher.finish() }

    /// Stops reading ahead and lets go of what was read (and of the restore spool's file):
    /// for a caller done with the cursor that cannot be sure when it is released (a
    /// closure on a thread pool may hold it a moment longer). Call it once done with the cursor.
    public func finish() {
        prefetcher.finish()
        reader = nil
        chunk = nil
        spooled = nil
        finished = true
    }

    /// The full name of a chunk, for messages.
    private func name(_ chunk: ArchiveRecord.Chunk) -> String { plan.index.store.describe(chunk.path) }

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

    /// The fast path of a replay into a connection: appends the bytes of the next plain
    /// commands of the chunk being read (annotations are skipped, not copied) to `out`, up
    /// to `max` commands of the archive, and returns how many commands it wrote. It stops at the chunk's end, at the cut,
    /// and before MULTI, EXEC or DISCARD, which go through ``next()``; 0 means: call
    /// ``next()``. Only for targets that are a time or everything; the outcome counts the
    /// same as entry by entry. It also stops once `out` holds `bytesUpTo` bytes.
    /// With a `merger`, runs of plain SETs go out as MSETs (see ``SetRunMerger``): the
    /// count returned and `positions` are then the commands written, one per MSET, while
    /// `max` and the outcome count the archive's commands.
    func appendPlainCommands(to out: inout ByteBuffer, positions: inout [ReplayOutcome.Position], max: Int,
                             bytesUpTo: Int = .max, merger: SetRunMerger? = nil) throws(RestoreError) -> Int {
        guard kind == .latest || kind == .time, max > 0, !finished, released.isEmpty, held.isEmpty, tracker.open == nil,
              pushedBack == nil, let reader else { return 0 }
        let stream = chunkStream, base = chunkOffset, limit = self.limit, lastSecond = self.lastSecond
        var ts = timestamp
        var commands = 0, bytes = 0, appended = 0, passed = 0
        let passedExpiries = self.passedExpiries
        var firstTimestamp = outcome.firstTimestamp
        var lastTimestamp = outcome.lastTimestamp
        defer {
            timestamp = ts
            outcome.commands += commands
            outcome.bytes += bytes
            outcome.incrExpiriesPassedSinceTarget += passed
            outcome.firstTimestamp = firstTimestamp
            outcome.lastTimestamp = lastTimestamp
        }
        // Whatever ends the loop, the merger's run is written before returning.
        reading: while commands < max && out.readableBytes < bytesUpTo {
            let next: AOFEntry?
            do { next = try reader.next() } catch {
                let chunk = self.chunk!
                throw RestoreError("chunk \(name(chunk)) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end)) does not parse: \(error); nothing past it applied", progress: outcome)
            }
            guard let entry = next else { break reading }  // the chunk's end: next() handles it
            let offset = base + entry.offset
            if offset >= limit {
                stop(at: ReplayEntry(entry: entry, stream: stream, offset: offset), reason: "the last size sample at or before the target")
                break reading
            }
            switch entry.kind {
            case .timestamp(let t):
                if t > lastSecond {
                    stop(at: ReplayEntry(entry: entry, stream: stream, offset: offset), reason: "first #TS after the target (\(t))")
                    break reading
                }
                ts = t
                bytes += entry.length
            case .annotation:
                bytes += entry.length
            case .command:
                if entry.hasName("MULTI") || entry.hasName("EXEC") || entry.hasName("DISCARD") {
                    pushedBack = ReplayEntry(entry: entry, stream: stream, offset: offset)
                    break reading
                }
                if let merger, SetRunMerger.takes(entry) {
                    appended += merger.add(entry, at: .init(stream: stream, offset: offset), to: &out, positions: &positions)
                } else {
                    if let merger { appended += merger.flush(to: &out, positions: &positions) }
                    var copy = entry.bytes
                    out.writeBuffer(&copy)
                    positions.append(.init(stream: stream, offset: offset))
                    appended += 1
                }
                if let passedExpiries, passedExpiries.passed(entry) { passed += 1 }
                commands += 1
                bytes += entry.length
                if firstTimestamp == nil { firstTimestamp = ts }
                lastTimestamp = ts
            }
        }
        if let merger { appended += merger.flush(to: &out, positions: &positions) }
        return appended
    }

    private func note(_ e: ReplayEntry) {
        outcome.bytes += e.entry.length
        guard e.entry.isCommand else { return }
        outcome.commands += 1
        if let passedExpiries, passedExpiries.passed(e.entry) { outcome.incrExpiriesPassedSinceTarget += 1 }
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

    /// Why the replay stops before `e`, if it does. Called for every entry: the common
    /// cases (everything, a time) touch only stored scalars.
    @inline(__always)
    private func stopReason(_ e: ReplayEntry) -> String? {
        if e.offset >= limit, kind != .beforeFirst { return "the last size sample at or before the target" }
        switch kind {
        case .latest:
            return nil
        case .time:
            if case .timestamp(let ts) = e.entry.kind, ts > lastSecond { return "first #TS after the target (\(ts))" }
            return nil
        default:
            return slowStopReason(e)
        }
    }

    private func slowStopReason(_ e: ReplayEntry) -> String? {
        switch plan.target {
        case .mark(let name):
            if e.entry.isCommand, e.entry.argumentCount >= 2, e.entry.argument(1) == markKey {
                return "the write of mark \(name)"
            }
        case .beforeFirst(let commands, let notBefore):
            guard e.entry.isCommand else { return nil }
            let reached: Bool
            if plan.usesTimestamps { reached = (timestamp ?? Int64.min) >= notBefore }
            else if let sampleLimit = plan.streams[streamIndex].sampleLimit { reached = e.offset >= sampleLimit }
            else { reached = false }
            if reached, commands.contains(e.entry.name) { return "the first \(e.entry.name) at or after the target" }
        case .offset(_, let s, let bytes):
            if e.stream > s || (e.stream == s && e.offset + e.entry.length > bytes) { return "the target offset" }
        default:
            break
        }
        return nil
    }

    private var isBeforeFirst: Bool { if case .beforeFirst = plan.target { true } else { false } }

    /// The next raw entry of the plan's streams, opening (and checking) chunks as needed.
    private func readEntry() throws(RestoreError) -> ReplayEntry? {
        if let e = pushedBack {
            pushedBack = nil
            return e
        }
        while true {
            if let reader {
                let entry: AOFEntry?
                do { entry = try reader.next() } catch {
                    let chunk = self.chunk!
                    throw RestoreError("chunk \(name(chunk)) (stream \(chunk.stream) bytes \(chunk.offset)..<\(chunk.end)) does not parse: \(error); nothing past it applied", progress: outcome)
                }
                if let entry {
                    return ReplayEntry(entry: entry, stream: chunkStream, offset: chunkOffset + entry.offset)
                }
                let chunk = self.chunk!
                let stream = plan.streams[streamIndex]
                if reader.pendingBytes > 0 {
                    let isLast = streamIndex == plan.streams.count - 1 && chunkIndex == stream.chunks.count - 1
                    let at = ReplayOutcome.Position(stream: chunk.stream, offset: chunkOffset + reader.offset)
                    guard isLast else {
                        throw RestoreError("chunk \(name(chunk)) ends inside a command at \(at) (\(reader.pendingBytes) bytes); nothing past it applied", progress: outcome)
                    }
                    outcome.truncated = .init(at: at, bytes: reader.pendingBytes)
                }
                self.reader = nil
                self.chunk = nil
                // Read to its end: its place in the spool is free for others.
                spooled?.release()
                spooled = nil
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
                        // An offset target in this stream (or an earlier one) was reached at
                        // its last byte: nothing past the gap is needed.
                        if case .offset(_, let s, _) = plan.target, stream.stream >= s { return nil }
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
            limit = stream.sampleLimit ?? Int.max
            let checkedBytes: CheckedBytes
            do { checkedBytes = try prefetcher.take(next) } catch {
                throw RestoreError(archive: error.kind, "\(error.message); nothing past stream \(next.stream) byte \(next.offset) applied", progress: outcome, underlying: error)
            }
            outcome.notes += prefetcher.takeNotes()
            let bytes: ByteBuffer
            switch checkedBytes {
            case .memory(let b):
                bytes = b
            case .spooled(let region):
                // Checked on its way into the spool: read back a block at a time.
                reader = region.aofReader(name: name(next))
                spooled = region
                chunk = next
                chunkStream = next.stream
                chunkOffset = next.offset - region.offset
                bytesRead += next.length
                continue
            }
            if let copier = wholeChunkCopier, tracker.open == nil, held.isEmpty, isWhollyBeforeCut(next),
               streamIndex < plan.streams.count - 1 || chunkIndex < stream.chunks.count - 1, try copier(next, bytes) {
                // Copied whole: account for it as if read entry by entry.
                bytesRead += next.length
                outcome.bytes += next.length
                if next.commands > 0 {
                    outcome.commands += next.commands
                    if outcome.firstTimestamp == nil { outcome.firstTimestamp = timestamp ?? next.firstTimestamp }
                }
                if let last = next.lastTimestamp { timestamp = last }
                if next.commands > 0 { outcome.lastTimestamp = timestamp }
                chunkIndex += 1
                continue
            }
            reader = AOFFileReader(bytes: bytes, name: name(next))
            chunk = next
            chunkStream = next.stream
            chunkOffset = next.offset
            bytesRead += next.length
        }
    }

    /// True when every entry of `chunk` (the next one to read) is before the cut. The last
    /// chunk of the plan is never taken whole (its end may be truncated).
    private func isWhollyBeforeCut(_ chunk: ArchiveRecord.Chunk) -> Bool {
        guard chunk.end <= limit else { return false }
        switch kind {
        case .latest: return true
        case .time: return (chunk.lastTimestamp ?? Int64.min) <= lastSecond && (timestamp ?? Int64.min) <= lastSecond
        case .offset:
            if case .offset(_, let s, let bytes) = plan.target { return chunk.stream < s || (chunk.stream == s && chunk.end <= bytes) }
            return false
        case .mark, .beforeFirst: return false
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
}
