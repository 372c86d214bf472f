import Foundation
import NIOCore
import RDB
import RESP

/// Turns an RDB base into `RESTORE key ttl payload REPLACE ABSTTL` commands, a batch at a
/// time, reading the base through its archive store (``ArchiveRDBSource``). Blocking:
/// ``fill(window:)`` runs on the thread pool; one caller at a time.
final class RDBRestoreBatcher: @unchecked Sendable {
    // @unchecked: used by one task at a time, each call awaited before the next.

    /// How absolute expiries of the base are treated.
    struct TTLPolicy: Sendable {
        /// The target second, in unix milliseconds.
        var targetMs: Int64
        /// Shift expiries by now minus the target (`--ttl-as-of-target`).
        var asOfTarget: Bool
    }

    /// A key whose payload cannot be made for the target, and why.
    struct Unrestorable: Sendable {
        var database: Int
        var key: [UInt8]
        /// The key quoted for messages.
        var keyDescription: String
        var reason: String
        /// The absolute expiry (unix ms) the key is to have on the target: moved to the TTL
        /// it had at the target with `--ttl-as-of-target` (then ``shifted``), else the base's.
        var expiresAtMs: Int64? = nil
        /// Where the key's expiry opcode is in the base (``RDB/RDBKeyEntry/expiryOffset``).
        var expiryOffset: Int? = nil
        /// True when ``expiresAtMs`` was moved (`--ttl-as-of-target`).
        var shifted = false
        /// `key "k" in db N: reason`, for reports and messages.
        var explained: String { "key \(keyDescription) in db \(database): \(reason)" }
    }

    /// RESTORE (and SELECT) commands ready to send, and what they stand for.
    struct Batch: Sendable {
        var bytes: ByteBuffer
        /// Commands in `bytes` (SELECTs included): the replies to wait for.
        var commands = 0
        /// RESTOREs in `bytes`: keys the target holds once they are acknowledged.
        var keys = 0
        /// RESTOREs whose expiry was shifted to the TTL the key had at the target.
        var shifted = 0
        /// Keys left out: expired by now, alive at the target second.
        var expiredSinceTarget = 0
        /// Keys left out: their expiry was at or before the target second.
        var expiredBeforeTarget = 0
        /// Keys left out: no payload can be made for the target.
        var unrestorable: [Unrestorable] = []
        /// The base's key-count hints (RESIZEDB) read so far.
        var keysHinted: UInt64 = 0
    }

    let reader: RDBReader
    let name: String
    let targetVersion: Int?
    let ttl: TTLPolicy
    /// The database the target is in, as the commands sent so far leave it.
    private var database = 0
    private var keysHinted: UInt64 = 0
    private(set) var finished = false
    /// Once ``finished``: the offset just after the base's CRC-64 trailer, and whether one
    /// was written (not `rdbchecksum no`): where a copy with moved expiries is re-summed.
    var trailer: (end: Int, written: Bool)? {
        guard let end = reader.endOffset, let checksum = reader.checksum else { return nil }
        return (end, checksum != .notWritten)
    }

    /// Opens the base (reading its header): `checkedBase` when the check before writing
    /// kept its bytes, else through the store. Throws ``RestoreError`` for a base that is
    /// not an RDB this reader reads.
    init(plan: RestorePlan, targetVersion: Int?, ttl: TTLPolicy, checkedBase: ByteBuffer? = nil) throws(RestoreError) {
        let g = plan.generation
        name = plan.baseName
        let source: any RDBByteSource = if let checkedBase { ByteBufferRDBSource(checkedBase) }
                                        else { ArchiveRDBSource(store: plan.index.store, key: g.path, count: g.size) }
        do { reader = try RDBReader(source: source) } catch {
            throw RestoreError(.damagedArchive, "the base \(name) is not an RDB this redkeep reads: \(error)", underlying: error)
        }
        self.targetVersion = targetVersion
        self.ttl = ttl
    }

    /// The next `window` keys at most, as commands. An empty batch with ``finished`` set
    /// means the base is done (its CRC-64 checked).
    func fill(window: Int) throws(RestoreError) -> Batch {
        var batch = Batch(bytes: ByteBufferAllocator().buffer(capacity: 256 * 1024))
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let shift = nowMs - ttl.targetMs
        while batch.keys < window, !finished {
            let entry: RDBEntry?
            do { entry = try reader.next() } catch {
                throw RestoreError(.damagedArchive, "the base \(name) does not read at byte \(error.offset): \(error.reason)", underlying: error)
            }
            guard let entry else { finished = true; break }
            switch entry {
            case .resizeDB(let keys, _):
                keysHinted &+= keys
            case .key(let key):
                var expiry = key.expiresAtMs
                var shifted = false
                if let at = expiry {
                    if at <= ttl.targetMs { batch.expiredBeforeTarget += 1; continue }
                    if ttl.asOfTarget {
                        expiry = at + shift
                        shifted = true
                    } else if at <= nowMs {
                        batch.expiredSinceTarget += 1
                        continue
                    }
                }
                let payload: [UInt8]
                do { payload = try DumpPayload.make(for: key, targetVersion: targetVersion) } catch {
                    batch.unrestorable.append(.init(database: key.database, key: key.key, keyDescription: key.keyDescription, reason: error.reason,
                                                    expiresAtMs: expiry, expiryOffset: key.expiryOffset, shifted: shifted))
                    continue
                }
                if shifted { batch.shifted += 1 }
                if key.database != database {
                    append(&batch.bytes, [Array("SELECT".utf8), Array(String(key.database).utf8)])
                    database = key.database
                    batch.commands += 1
                }
                append(&batch.bytes, [Self.restore, key.key, Array(String(expiry ?? 0).utf8), payload, Self.replace, Self.absttl])
                batch.commands += 1
                batch.keys += 1
            default:
                continue
            }
        }
        batch.keysHinted = keysHinted
        return batch
    }

    static let restore = Array("RESTORE".utf8), replace = Array("REPLACE".utf8), absttl = Array("ABSTTL".utf8)

    private func append(_ bytes: inout ByteBuffer, _ words: [[UInt8]]) {
        bytes.writeRESPBulkArray(words, length: { $0.count }, copy: { word, out in
            word.withUnsafeBytes { out.copyMemory(from: $0) }
        })
    }
}

/// A base already in memory (checked), read by ``RDB/RDBReader`` without a copy.
struct ByteBufferRDBSource: RDBByteSource {
    let bytes: ByteBuffer

    init(_ bytes: ByteBuffer) { self.bytes = bytes }

    var count: Int { bytes.readableBytes }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int {
        guard offset >= 0, offset < count else { return 0 }
        let n = min(buffer.count, count - offset)
        bytes.withUnsafeReadableBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n)
        }
        return n
    }
}
