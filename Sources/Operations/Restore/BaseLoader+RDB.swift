import Foundation
import NIOCore
import RESP
import RedisClient

/// What loading a base did, for the report.
struct BaseLoadResult: Sendable {
    /// Keys (RDB) or commands (AOF) the target acknowledged.
    var applied = 0
    /// RDB keys restored with the TTL they had at the target (`--ttl-as-of-target`); for
    /// an AOF base, its commands whose absolute expiry was moved.
    var ttlShifted = 0
    /// RDB keys alive at the target second whose expiry has passed since: not restored;
    /// for an AOF base, its commands setting such an expiry (the server drops their key).
    var expiredSinceTarget = 0
    /// RDB keys whose expiry was at or before the target second: not restored.
    var expiredBeforeTarget = 0
    /// RDB keys copied through a temporary server (no payload could be made for them).
    var throughTemporaryServer = 0
    /// The first of those keys, each with why no payload could be made for it.
    var throughTemporaryServerWhy: [String] = []
    /// True when the commands sent leave the connection in database 0 (the stream then
    /// needs no SELECT 0 round trip before its first batch).
    var leavesDatabaseZero = false
}

extension BaseLoader {
    /// Streams an RDB base to the target as `RESTORE key ttl payload REPLACE ABSTTL`,
    /// pipelined like the incr stream (`batchesInFlight` batches of the window on the
    /// wire, the next one read from the archive meanwhile), with no server of our own.
    /// Keys whose payload cannot be made for the target go through a temporary server
    /// afterwards, or are refused by name when none can run.
    ///
    /// The first batches are small and grow (``firstBatchKeys``, then four times more
    /// each, up to the window's share): the target starts on the first keys while the
    /// next are made, instead of idling while a full share is. ``lastBatchSent`` is
    /// called once nothing more of the base is to be sent, while its last replies are
    /// still coming (the stream prepares its first batch then).
    func loadRDBWithRestore() async throws(RestoreError) -> BaseLoadResult {
        let endpoint = target.endpoint
        let targetVersion: Int?
        do { targetVersion = RDBTargetVersion.of(try await target.info("server")) } catch {
            throw RestoreError(.target, "cannot read INFO server of the target \(endpoint) to choose the RDB version of its payloads: \(error)", underlying: error)
        }
        let plan = self.plan
        let policy = RDBRestoreBatcher.TTLPolicy(targetMs: Int64(plan.targetSecond * 1000), asOfTarget: ttlAsOfTarget)
        let kept = checked?.takeBase()
        let batcher = try await ArchiveIO.run { () throws(RestoreError) in
            try RDBRestoreBatcher(plan: plan, targetVersion: targetVersion, ttl: policy, checkedBase: kept)
        }
        let depth = ConnectionReplay.canSubmitInOrder ? 4 : 1
        let size = max(1, min(window, 1_000_000) / depth)
        var growing = min(size, Self.firstBatchKeys)
        /// The next batch, each larger than the one before until the share is reached.
        func fill() async throws(RestoreError) -> RDBRestoreBatcher.Batch {
            let keys = growing
            growing = min(size, growing * 4)
            return try await ArchiveIO.run { () throws(RestoreError) in try batcher.fill(window: keys) }
        }
        var result = BaseLoadResult()
        var unrestorable: [RDBRestoreBatcher.Unrestorable] = []
        var inFlight: [(batch: RDBRestoreBatcher.Batch, replies: Task<PipelineErrorCount, any Error>)] = []
        var hinted: UInt64 = 0
        /// Waits for one batch's replies and counts what the target acknowledged.
        func settle(_ sent: (batch: RDBRestoreBatcher.Batch, replies: Task<PipelineErrorCount, any Error>)) async throws(RestoreError) {
            let counted: PipelineErrorCount
            do { counted = try await sent.replies.value } catch {
                throw RestoreError(.target, "the target \(endpoint) failed while loading the base (\(result.applied) of its keys acknowledged): \(error)", underlying: error)
            }
            if let bad = counted.firstErrors.first {
                throw RestoreError(.target, "the target \(endpoint) refused RESTORE of a key of the base \(plan.baseName) (\(result.applied) keys acknowledged before that batch): \(bad.message)")
            }
            result.applied += sent.batch.keys
            result.ttlShifted += sent.batch.shifted
            result.expiredSinceTarget += sent.batch.expiredSinceTarget
            result.expiredBeforeTarget += sent.batch.expiredBeforeTarget
            progress?(RestoreProgress(phase: .base, done: result.applied, total: Int(clamping: hinted), unit: .keys))
        }
        /// Settles what is on the wire before a failure leaves.
        func drain() async { for sent in inFlight { _ = try? await sent.replies.value } }
        do throws(RestoreError) {
            var next: RDBRestoreBatcher.Batch? = try await fill()
            while true {
                while !stop.isSet, inFlight.count < depth, let batch = next {
                    hinted = batch.keysHinted
                    unrestorable += batch.unrestorable
                    if batch.commands > 0 {
                        let target = self.target
                        inFlight.append((batch, Self.submit { try await target.pipelineCountingErrors(encoded: batch.bytes, count: batch.commands) }))
                    } else {
                        // Only keys left out: nothing to send, counted now.
                        result.expiredSinceTarget += batch.expiredSinceTarget
                        result.expiredBeforeTarget += batch.expiredBeforeTarget
                    }
                    next = batcher.finished ? nil : try await fill()
                    if next == nil, let lastBatchSent { lastBatchSent() }
                }
                guard !inFlight.isEmpty else { break }
                try await settle(inFlight.removeFirst())
            }
        } catch {
            await drain()
            throw error
        }
        if !unrestorable.isEmpty, !stop.isSet {
            let copy = try await loadThroughTemporaryServer(only: unrestorable, trailer: batcher.trailer)
            result.throughTemporaryServer = copy.copied
            result.throughTemporaryServerWhy = unrestorable.prefix(ReplayOutcome.maxNamedKeys).map(\.explained)
            result.applied += copy.copied
            result.ttlShifted += copy.ttlShifted
            result.expiredSinceTarget += copy.expiredMeanwhile
        }
        result.leavesDatabaseZero = batcher.database == 0 && unrestorable.isEmpty && !stop.isSet
        return result
    }

    /// Keys in the first batch of an RDB base: about a millisecond of the target's work.
    static let firstBatchKeys = 1_000

    /// Starts a pipeline now, in call order (see ``ConnectionReplay``'s submit).
    static func submit(_ body: @escaping @Sendable () async throws -> PipelineErrorCount) -> Task<PipelineErrorCount, any Error> {
        if #available(macOS 26.0, *) { return Task.immediate { try await body() } }
        return Task { try await body() }
    }
}

extension ReplayOutcome {
    /// Takes the base's counts.
    mutating func record(_ base: BaseLoadResult) {
        baseKeysTTLShifted = base.ttlShifted
        baseKeysExpiredSinceTarget = base.expiredSinceTarget
        baseKeysExpiredBeforeTarget = base.expiredBeforeTarget
        baseKeysThroughTemporaryServer = base.throughTemporaryServer
        baseKeysThroughTemporaryServerWhy = base.throughTemporaryServerWhy
    }
}
