import AOF
import Foundation
import NIOCore
import RESP
import RedisClient

/// Rolls a server forward through a connection: loads the plan's base, then sends the
/// incr commands exactly as archived (their raw bytes, never re-encoded), pipelined with
/// at most `window` commands in flight. The next batch is read from the archive while the
/// previous one is on the wire.
public struct ConnectionReplay {
    /// The plan.
    public let plan: RestorePlan
    /// The server to fill.
    public let target: RedisConnection
    /// Commands per pipeline (a transaction is never split, so one may exceed it).
    public var window: Int = 10_000
    /// FLUSHALL a target that holds keys (otherwise it is refused).
    public var flush = false
    /// Where a temporary server for an RDB base runs.
    public var lab: Lab?
    /// Set to stop cleanly between batches.
    public var stop = StopFlag()
    /// Called after each batch with (bytes read, bytes planned).
    public var progress: (@Sendable (Int, Int) -> Void)?

    /// Creates a replay.
    public init(plan: RestorePlan, target: RedisConnection) {
        self.plan = plan
        self.target = target
    }

    /// Runs it. Throws ``RestoreError`` (with how far it got) when the target refuses or
    /// dies, or the archive is damaged.
    public func run() async throws(RestoreError) -> ReplayOutcome {
        let clock = ContinuousClock.now
        let endpoint = target.endpoint
        try await prepareTarget()
        var outcome: ReplayOutcome
        let baseKeys = try await BaseLoader(plan: plan, target: target, lab: lab, window: window).load()
        do {
            _ = try await target.send(["SELECT", "0"])
        } catch {
            throw RestoreError("cannot SELECT 0 on \(endpoint) after loading the base: \(error)")
        }
        outcome = try await streamIncr()
        outcome.baseKeys = baseKeys
        _ = try? await target.send(["SELECT", "0"])
        let elapsed = ContinuousClock.now - clock
        outcome.duration = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return outcome
    }

    /// Refuses a target holding keys, unless asked to flush it.
    private func prepareTarget() async throws(RestoreError) {
        let endpoint = target.endpoint
        let keys: Int
        do {
            let info = try await target.info("keyspace")
            keys = (info.section("keyspace") ?? []).reduce(0) { total, field in
                let text = field.value.text
                guard let part = text.split(separator: ",").first(where: { $0.hasPrefix("keys=") }) else { return total }
                return total + (Int(part.dropFirst(5)) ?? 0)
            }
        } catch {
            throw RestoreError("cannot read the keyspace of the target \(endpoint): \(error)")
        }
        guard keys > 0 else { return }
        guard flush else {
            throw RestoreError("the target \(endpoint) holds \(keys) keys; restoring into it would mix data sets. Use --flush to empty it first, or another target")
        }
        do { _ = try await target.send(["FLUSHALL"]) } catch {
            throw RestoreError("cannot FLUSHALL the target \(endpoint): \(error)")
        }
    }

    /// Sends the incr commands up to the cut.
    private func streamIncr() async throws(RestoreError) -> ReplayOutcome {
        let cursor = ReplayCursor(plan)
        let endpoint = target.endpoint
        let planned = plan.plannedBytes
        var current = try Self.fill(cursor, window: window)
        var acknowledged = ReplayOutcome(generation: plan.generation.gen)
        var errors = 0
        var firstError: String?
        while current.count > 0 {
            let batch = current
            let target = self.target
            async let replies = target.pipeline(encoded: batch.bytes, count: batch.count)
            // Read the next batch while this one is on the wire.
            let next: Batch
            do { next = try Self.fill(cursor, window: window) } catch {
                _ = try? await replies
                throw error
            }
            let values: [RESPValue]
            do { values = try await replies } catch {
                var progress = acknowledged
                progress.errorReplies = errors
                throw RestoreError("the target \(endpoint) failed after \(acknowledged.commands) commands of the incr stream (applied up to \(batch.first.map(String.init(describing:)) ?? "the start")): \(error)", progress: progress)
            }
            for (i, value) in values.enumerated() where value.isError {
                errors += 1
                if firstError == nil { firstError = "\(value.errorMessage ?? "error") (command at \(batch.positions[i]))" }
            }
            acknowledged = batch.outcome
            progress?(cursor.bytesRead, planned)
            if stop.isSet {
                acknowledged.interrupted = true
                acknowledged.stoppedAt = next.first
                acknowledged.stopReason = "interrupted"
                acknowledged.errorReplies = errors
                acknowledged.firstError = firstError
                return acknowledged
            }
            current = next
        }
        var outcome = cursor.outcome
        outcome.errorReplies = errors
        outcome.firstError = firstError
        return outcome
    }

    /// Commands ready to send, with where each is and the cursor's outcome after them.
    struct Batch: Sendable {
        var bytes: ByteBuffer
        var count = 0
        var positions: [ReplayOutcome.Position] = []
        var outcome: ReplayOutcome
        var first: ReplayOutcome.Position? { positions.first }
    }

    /// Up to `window` commands (more only to finish a transaction, which is never split
    /// across batches, so an interrupted replay never leaves the target inside MULTI).
    static func fill(_ cursor: ReplayCursor, window: Int) throws(RestoreError) -> Batch {
        var batch = Batch(bytes: ByteBufferAllocator().buffer(capacity: 256 * 1024), outcome: cursor.outcome)
        batch.positions.reserveCapacity(window)
        var inTransaction = false
        while batch.count < window || inTransaction {
            guard let e = try cursor.next() else { break }
            guard e.entry.isCommand else { continue }
            if e.entry.hasName("MULTI") { inTransaction = true } else if e.entry.hasName("EXEC") { inTransaction = false }
            var bytes = e.entry.bytes
            batch.bytes.writeBuffer(&bytes)
            batch.count += 1
            batch.positions.append(.init(stream: e.stream, offset: e.offset))
        }
        batch.outcome = cursor.outcome
        return batch
    }
}
