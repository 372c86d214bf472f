import AOF
import Foundation
import NIOCore
import RDB
import RESP
import RedisClient

extension BaseLoader {
    /// Sends an AOF base's commands as archived, except that the absolute expiries are
    /// moved with `--ttl-as-of-target` (``ExpiryShifter``) and, without it, those that
    /// passed since the target are counted: the counts are the acknowledged batches'.
    /// Pipelined like an RDB base (``batchesInFlight`` batches of the window's share on the
    /// wire, the next one read meanwhile); a command the target refuses fails the load,
    /// naming the base.
    func loadCommands() async throws(RestoreError) -> BaseLoadResult {
        let plan = self.plan
        let kept = checked?.takeBase()
        let ttlAsOfTarget = self.ttlAsOfTarget
        let batcher = AOFBaseBatcher(plan: plan, checkedBase: kept, ttlAsOfTarget: ttlAsOfTarget)
        let endpoint = target.endpoint
        let depth = ConnectionReplay.canSubmitInOrder ? Self.batchesInFlight : 1
        let size = max(1, min(window, 1_000_000) / depth)
        var result = BaseLoadResult()
        var inFlight: [(batch: AOFBaseBatcher.Batch, replies: Task<PipelineErrorCount, any Error>)] = []
        do throws(RestoreError) {
            while true {
                while !stop.isSet, !batcher.finished, inFlight.count < depth {
                    let batch = try await ArchiveIO.run { () throws(RestoreError) in try batcher.fill(window: size) }
                    guard batch.commands > 0 else { continue }
                    let target = self.target
                    inFlight.append((batch, Self.submit { try await target.pipelineCountingErrors(encoded: batch.bytes, count: batch.commands) }))
                }
                guard !inFlight.isEmpty else { break }
                let sent = inFlight.removeFirst()
                let counted: PipelineErrorCount
                do { counted = try await sent.replies.value } catch {
                    throw RestoreError(.target, "the target \(endpoint) failed while loading the base (\(result.applied) of its commands acknowledged): \(error)", underlying: error)
                }
                if let bad = counted.firstErrors.first {
                    throw RestoreError(.target, "the target \(endpoint) refused a command of the base \(plan.baseName): \(bad.message)")
                }
                result.applied += sent.batch.commands
                result.expiredSinceTarget += sent.batch.passed
                result.ttlShifted += sent.batch.shifted
                progress?(RestoreProgress(phase: .base, done: sent.batch.readUpTo, total: plan.generation.size))
            }
        } catch {
            // Settles what is on the wire before the failure leaves.
            for sent in inFlight { _ = try? await sent.replies.value }
            throw error
        }
        return result
    }

    /// Batches of a base on the wire at once, as for the incr stream.
    static let batchesInFlight = 4
}

/// Turns an AOF base into batches of its commands, reading the bytes the check before
/// writing kept (in memory, or a block at a time from the restore spool), else reading
/// the base from the store again a block at a time, hashed as it is read
/// (``ArchiveRDBSource``): a mismatch fails the load with a damaged-archive error naming
/// it. Never holds more of the base than a block and a batch. Blocking: ``fill(window:)``
/// runs on the thread pool; one caller at a time.
final class AOFBaseBatcher: @unchecked Sendable {
    // @unchecked: used by one task at a time, each call awaited before the next.

    /// Commands ready to send, and what they stand for.
    struct Batch: Sendable {
        var bytes: ByteBuffer
        var commands = 0
        /// Commands setting an expiry that passed since the target (without `--ttl-as-of-target`).
        var passed = 0
        /// Commands whose expiry was moved (`--ttl-as-of-target`).
        var shifted = 0
        /// Bytes of the base read once this batch was made (for progress).
        var readUpTo = 0
    }

    private let reader: AOFFileReader
    /// What to subtract from the reader's offsets to get the base's (a spooled base's
    /// start in the spool file).
    private let start: Int
    /// The base read again from the store, whose sha256 it checks (nil: checked bytes).
    private let reread: ArchiveRDBSource?
    /// Keeps a spooled base's region (and the spool's file) until the base is read.
    private var spooled: SpooledBytes?
    private let shifter: ExpiryShifter?
    private var passedWindow: PassedExpiryWindow?
    private let name: String
    private(set) var finished = false

    init(plan: RestorePlan, checkedBase: CheckedBytes?, ttlAsOfTarget: Bool) {
        let g = plan.generation
        name = plan.baseName
        switch checkedBase {
        case .memory(let bytes):
            reader = AOFFileReader(bytes: bytes, name: name); start = 0; reread = nil
        case .spooled(let bytes):
            reader = bytes.aofReader(name: name); start = bytes.offset; reread = nil; spooled = bytes
        case nil:
            let again = ArchiveRDBSource(store: plan.index.store, key: g.path, count: g.size, blockSize: SpooledBytes.blockSize,
                                         sha256: g.sha256, what: "the base \(name)")
            reader = AOFFileReader(name: name, to: g.size, blockSize: SpooledBytes.blockSize) { buffer, offset throws(AOFError) in
                do throws(RDBError) { return try again.read(into: buffer, at: offset) } catch { throw AOFError(.io, error.reason, offset: offset) }
            }
            start = 0; reread = again
        }
        let targetMs = Int64(plan.targetSecond * 1000)
        shifter = ttlAsOfTarget ? ExpiryShifter(targetMs: targetMs) : nil
        passedWindow = ttlAsOfTarget ? nil : PassedExpiryWindow(targetMs: targetMs)
    }

    /// The next `window` commands at most, and about ``ConnectionReplay/batchBytes`` (so
    /// large values do not make batches of hundreds of MB). A batch of none with ``finished`` set means
    /// the base is done.
    func fill(window: Int) throws(RestoreError) -> Batch {
        var batch = Batch(bytes: ByteBufferAllocator().buffer(capacity: 256 * 1024))
        shifter?.startBatch()
        passedWindow?.startBatch()
        let shiftedBefore = shifter?.rewritten ?? 0
        do {
            while batch.commands < window, batch.bytes.readableBytes < ConnectionReplay.batchBytes, let entry = try reader.next() {
                guard entry.isCommand else { continue }
                if let shifter {
                    shifter.append(entry, to: &batch.bytes)
                } else {
                    if let passedWindow, passedWindow.passed(entry) { batch.passed += 1 }
                    var b = entry.bytes
                    batch.bytes.writeBuffer(&b)
                }
                batch.commands += 1
            }
        } catch {
            if let mismatch = reread?.mismatch { throw RestoreError(mismatch) }
            throw RestoreError(.damagedArchive, "the base \(name) does not parse: \(error)", underlying: error)
        }
        batch.shifted = (shifter?.rewritten ?? 0) - shiftedBefore
        batch.readUpTo = reader.offset - start
        if batch.commands < window && batch.bytes.readableBytes < ConnectionReplay.batchBytes {
            finished = true
            spooled = nil
            if reader.pendingBytes > 0 { throw RestoreError(.damagedArchive, "the base \(name) ends inside a command at byte \(reader.offset - start)") }
        }
        return batch
    }
}
