import AOF
import Foundation
import NIOCore
import RESP
import RedisClient

/// Rolls a server forward through a connection: loads the plan's base, then sends the
/// incr commands as archived (their raw bytes, never re-encoded; runs of plain SETs as
/// MSETs, see ``SetRunMerger``), pipelined with at most `window` commands in flight. The
/// next batch is read from the archive while the previous one is on the wire.
public struct ConnectionReplay {
    /// The plan.
    public let plan: RestorePlan
    /// The server to fill.
    public let target: RedisConnection
    /// Commands in flight at most (a transaction is never split, so a batch may exceed
    /// its share).
    public var window: Int = 50_000
    /// The window is sent as this many pipelines, each written while the previous ones
    /// are being answered, so the server never waits for the next batch.
    public var batchesInFlight = 4
    /// FLUSHALL a target that holds keys (otherwise it is refused).
    public var flush = false
    /// Where a temporary server for an RDB base runs.
    public var lab: Lab?
    /// Makes that Lab when a key first needs it (when ``lab`` is nil).
    var makeLab: (@Sendable () async -> Lab?)?
    /// Restore the base's keys with the TTL they had at the target second.
    public var ttlAsOfTarget = false
    /// Send runs of plain SETs as MSETs when the target has MSET (see ``SetRunMerger``).
    public var mergeSets = true
    /// Set to stop cleanly between batches.
    public var stop = StopFlag()
    /// Called as the base loads and after each batch of the stream.
    public var progress: (@Sendable (RestoreProgress) -> Void)?
    /// What the check before writing kept of the base and the chunks: used instead of
    /// reading them again.
    var checked: CheckedObjects?

    /// Creates a replay.
    public init(plan: RestorePlan, target: RedisConnection) {
        self.plan = plan
        self.target = target
    }

    /// Runs it: empties the target when asked (callers check the archive first, see
    /// ``Restore``), loads the base, streams the incr commands. Throws ``RestoreError``
    /// (with what the target acknowledged) when the target refuses or dies, or the
    /// archive is damaged.
    public func run() async throws(RestoreError) -> ReplayOutcome {
        let clock = ContinuousClock.now
        let endpoint = target.endpoint
        try await prepareTarget()
        let unmerged = mergeSets ? await whySETsCannotMerge() : nil
        let merger = mergeSets && unmerged == nil ? SetRunMerger() : nil
        var outcome: ReplayOutcome
        var loader = BaseLoader(plan: plan, target: target, lab: lab, window: window, stop: stop, progress: progress)
        loader.ttlAsOfTarget = ttlAsOfTarget
        loader.checked = checked
        loader.makeLab = makeLab
        // The stream's first batch is read while the base's last replies come back, so
        // the target does not wait for it once they are in.
        let cursor = CursorBox(ReplayCursor(plan, checked: checked), merger: merger)
        // The restore spool goes when the replay ends, whoever holds the cursor longer.
        defer { cursor.value.finish() }
        let targetMs = Int64(plan.targetSecond * 1000)
        let shifter = ttlAsOfTarget ? ExpiryShifter(targetMs: targetMs) : nil
        if !ttlAsOfTarget { cursor.value.passedExpiries = PassedExpiryWindow(targetMs: targetMs) }
        let firstBatch = FirstBatch()
        let size = streamBatchSize
        loader.lastBatchSent = { firstBatch.start { () throws(RestoreError) in try Self.fill(cursor.value, window: size, shifter: shifter, merger: cursor.merger) } }
        let base: BaseLoadResult
        do { base = try await loader.load() } catch {
            await firstBatch.discard()
            throw error
        }
        let baseKeys = base.applied
        if !base.leavesDatabaseZero {
            do {
                _ = try await target.send(["SELECT", "0"])
            } catch {
                await firstBatch.discard()
                throw RestoreError(.target, "cannot SELECT 0 on \(endpoint) after loading the base: \(error)", underlying: error)
            }
        }
        if stop.isSet {
            await firstBatch.discard()
            var interrupted = ReplayOutcome(generation: plan.generation.gen)
            interrupted.interrupted = true
            interrupted.stopReason = "interrupted while loading the base (\(baseKeys) keys or commands of it applied)"
            interrupted.baseKeys = baseKeys
            interrupted.record(base)
            return interrupted
        }
        outcome = try await streamIncr(cursor, shifter: shifter, first: firstBatch)
        if let unmerged { outcome.notes.append("plain SETs were sent one by one: \(unmerged)") }
        outcome.baseKeys = baseKeys
        outcome.record(base)
        _ = try? await target.send(["SELECT", "0"])
        let elapsed = ContinuousClock.now - clock
        outcome.duration = elapsed.inSeconds
        return outcome
    }

    /// Refuses a target holding keys, unless asked to flush it.
    private func prepareTarget() async throws(RestoreError) {
        let endpoint = target.endpoint
        let keys: Int
        do {
            let info = try await target.info("keyspace")
            keys = info.totalKeys
        } catch {
            throw RestoreError(.target, "cannot read the keyspace of the target \(endpoint): \(error)", underlying: error)
        }
        guard keys > 0 else { return }
        guard flush else {
            throw RestoreError(.refusedTarget, "the target \(endpoint) holds \(keys) keys; restoring into it would mix data sets. Use --flush to empty it first, or another target")
        }
        do { _ = try await target.send(["FLUSHALL"]) } catch {
            throw RestoreError(.target, "cannot FLUSHALL the target \(endpoint): \(error)", underlying: error)
        }
    }

    /// Why runs of SETs cannot go to the target as MSETs, nil when they can: it must know
    /// MSET (`rename-command MSET ""` removes it; a server that cannot say is not sent
    /// one), and not be in cluster mode, where one MSET must hold keys of one slot.
    private func whySETsCannotMerge() async -> String? {
        let endpoint = target.endpoint
        let infos: [RESPValue]
        do {
            // One entry per name asked: the command's description, or null when unknown.
            guard case .array(let described) = try await target.send(["COMMAND", "INFO", "MSET"]) else {
                return "the target \(endpoint) answered COMMAND INFO MSET with no list"
            }
            infos = described
        } catch {
            return "the target \(endpoint) cannot say whether it has MSET (COMMAND INFO MSET: \(error))"
        }
        guard let info = infos.first, case .array = info else { return "the target \(endpoint) does not offer MSET (renamed or disabled)" }
        guard let cluster = try? await target.info("cluster") else { return "cannot read INFO cluster of the target \(endpoint)" }
        if cluster.int("cluster_enabled") == 1 { return "the target \(endpoint) is in cluster mode, where one MSET must hold keys of one slot" }
        return nil
    }

    /// Sends the incr commands up to the cut: `batchesInFlight` batches of the window in flight,
    /// so the server always has the next batch queued while the replies of the previous
    /// one travel back, and the batch after is read from the archive meanwhile.
    private func streamIncr(_ cursor: CursorBox, shifter: ExpiryShifter?, first: FirstBatch) async throws(RestoreError) -> ReplayOutcome {
        let endpoint = target.endpoint
        let planned = plan.plannedBytes
        let depth = streamDepth
        let size = streamBatchSize
        var inFlight: [(batch: Batch, replies: Task<PipelineErrorCount, any Error>)] = []
        var acknowledged = ReplayOutcome(generation: plan.generation.gen)
        var errors = 0
        var firstError: String?
        var stopping = false
        /// Waits for what is on the wire, then fails with what the target acknowledged.
        func fail(_ error: RestoreError) async -> RestoreError {
            for other in inFlight {
                if let counted = try? await other.replies.value { acknowledged = other.batch.outcome; errors += other.batch.commandsRefused(counted) }
            }
            var failure = error
            acknowledged.errorReplies = errors
            failure.progress = acknowledged
            return failure
        }
        // Reading, checking and parsing the archive runs on the thread pool, the next
        // batch while the previous ones are on the wire.
        var next: Batch
        do {
            if let prepared = try await first.take() { next = prepared }
            else { next = try await ArchiveIO.run { () throws(RestoreError) in try Self.fill(cursor.value, window: size, shifter: shifter, merger: cursor.merger) } }
        } catch {
            throw await fail(error)
        }
        while true {
            while !stopping, inFlight.count < depth, next.count > 0 {
                inFlight.append((next, submit(next)))
                do { next = try await ArchiveIO.run { () throws(RestoreError) in try Self.fill(cursor.value, window: size, shifter: shifter, merger: cursor.merger) } } catch {
                    throw await fail(error)
                }
            }
            guard !inFlight.isEmpty else { break }
            let (batch, replies) = inFlight.removeFirst()
            let counted: PipelineErrorCount
            do { counted = try await replies.value } catch {
                throw await fail(RestoreError(.target, "the target \(endpoint) failed after \(acknowledged.commands) commands of the incr stream (applied up to \(batch.first.map(String.init(describing:)) ?? "the start")): \(error)",
                                              underlying: error as? RedisClientError))
            }
            errors += batch.commandsRefused(counted)
            if firstError == nil, let first = counted.firstErrors.first {
                let carried = batch.merged[first.index].map { ", an MSET carrying the \($0) SETs from there" } ?? ""
                firstError = "\(first.message) (command at \(batch.positions[first.index])\(carried))"
            }
            acknowledged = batch.outcome
            progress?(RestoreProgress(phase: .stream, done: batch.bytesRead, total: planned))
            if stop.isSet && !stopping {
                // Finish what is on the wire, send nothing more.
                stopping = true
            }
            if stopping && inFlight.isEmpty {
                acknowledged.interrupted = true
                acknowledged.stoppedAt = next.first ?? acknowledged.stoppedAt
                acknowledged.stopReason = "interrupted"
                acknowledged.errorReplies = errors
                acknowledged.firstError = firstError
                return acknowledged
            }
        }
        var outcome = cursor.value.outcome
        outcome.setsSentAsMSET = cursor.merger?.setsSentAsMSET ?? 0
        outcome.incrExpiriesShifted = shifter?.rewritten ?? 0
        outcome.errorReplies = errors
        outcome.firstError = firstError
        return outcome
    }

    /// Batches of the stream in flight at once.
    private var streamDepth: Int { Self.canSubmitInOrder ? max(1, min(batchesInFlight, window)) : 1 }
    /// Commands in one batch of the stream.
    private var streamBatchSize: Int { max(1, window / streamDepth) }

    /// The cursor, handed to the thread pool one batch at a time (never two at once).
    final class CursorBox: @unchecked Sendable {
        let value: ReplayCursor
        /// Merges runs of SETs across the batches (nil: every command as archived).
        let merger: SetRunMerger?
        init(_ value: ReplayCursor, merger: SetRunMerger? = nil) {
            self.value = value
            self.merger = merger
        }
    }

    /// Writes a batch now, in call order, and returns the task that collects its replies.
    /// The task starts immediately on the caller's thread and runs until the pipeline is
    /// handed to the channel (nothing before that suspends), so batches reach the server
    /// in the order they are submitted.
    /// Only the error replies are looked at: the replies are never built into values.
    private func submit(_ batch: Batch) -> Task<PipelineErrorCount, any Error> {
        let target = self.target
        if #available(macOS 26.0, *) {
            return Task.immediate { try await target.pipelineCountingErrors(encoded: batch.bytes, count: batch.count) }
        }
        // Without Task.immediate only one batch is in flight at a time (see canSubmitInOrder).
        return Task { try await target.pipelineCountingErrors(encoded: batch.bytes, count: batch.count) }
    }

    /// The bytes of one batch at most (but for one larger command or a transaction), 1 MB:
    /// with ``batchesInFlight`` of them on the wire and one being filled, what the
    /// stream holds stays a few tens of MB however large the commands are.
    static let batchBytes = 1 << 20

    /// Task.immediate (Swift 6.2 runtime; always on Linux) keeps submissions in order.
    static var canSubmitInOrder: Bool {
        if #available(macOS 26.0, *) { return true }
        return false
    }

    /// Commands ready to send, with where each is and the cursor's outcome after them.
    struct Batch: Sendable {
        var bytes: ByteBuffer
        var count = 0
        var positions: [ReplayOutcome.Position] = []
        var outcome: ReplayOutcome
        /// Archive bytes read once this batch was filled (for progress).
        var bytesRead = 0
        /// The MSETs among the commands: index -> the SETs it carries.
        var merged: [Int: Int] = [:]
        var first: ReplayOutcome.Position? { positions.first }

        /// The archive's commands the error replies in `counted` refused: an MSET's
        /// refusal refuses every SET it carries.
        func commandsRefused(_ counted: PipelineErrorCount) -> Int {
            guard !merged.isEmpty else { return counted.errors }
            return counted.errorIndexes.reduce(0) { $0 + (merged[$1] ?? 1) }
        }
    }

    /// Up to `window` commands and about `maxBytes` bytes (more only to finish a
    /// transaction, which is never split across batches, so an interrupted replay never
    /// leaves the target inside MULTI, or for one larger command): the bytes bound keeps
    /// the batches in flight small whatever the commands' size.
    /// With a shifter (`--ttl-as-of-target`), commands go one by one through it; without,
    /// the cursor counts the expiries that passed since the target (taking now per batch).
    static func fill(_ cursor: ReplayCursor, window: Int, maxBytes: Int = batchBytes, shifter: ExpiryShifter? = nil,
                     merger: SetRunMerger? = nil) throws(RestoreError) -> Batch {
        var batch = Batch(bytes: ByteBufferAllocator().buffer(capacity: 256 * 1024), outcome: cursor.outcome)
        batch.positions.reserveCapacity(window)
        var inTransaction = false
        shifter?.startBatch()
        merger?.startBatch()
        cursor.passedExpiries?.startBatch()
        // The window counts the archive's commands; `batch.count` the commands written
        // (fewer when SETs go as MSETs).
        var taken = 0
        while (taken < window && batch.bytes.readableBytes < maxBytes) || inTransaction {
            if !inTransaction, shifter == nil {
                let before = cursor.outcome.commands
                let written = try cursor.appendPlainCommands(to: &batch.bytes, positions: &batch.positions, max: window - taken,
                                                             bytesUpTo: maxBytes, merger: merger)
                if written > 0 {
                    batch.count += written
                    taken += cursor.outcome.commands - before
                    continue
                }
            }
            guard let e = try cursor.next() else { break }
            guard e.entry.isCommand else { continue }
            if e.entry.hasName("MULTI") { inTransaction = true } else if e.entry.hasName("EXEC") { inTransaction = false }
            if let shifter {
                shifter.append(e.entry, to: &batch.bytes)
            } else {
                var bytes = e.entry.bytes
                batch.bytes.writeBuffer(&bytes)
            }
            batch.count += 1
            taken += 1
            batch.positions.append(.init(stream: e.stream, offset: e.offset))
        }
        batch.outcome = cursor.outcome
        if let merger {
            batch.merged = merger.merged
            batch.outcome.setsSentAsMSET = merger.setsSentAsMSET
        }
        if let shifter { batch.outcome.incrExpiriesShifted = shifter.rewritten }
        batch.bytesRead = cursor.bytesRead
        return batch
    }
}
