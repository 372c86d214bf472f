import Foundation
import NIOCore
import RDB
import RESP

/// Turns an RDB base into `RESTORE key ttl payload REPLACE ABSTTL` commands, a batch at a
/// time, reading the base's checked bytes (in memory, or a block at a time from the
/// restore spool), else through its archive store, hashed as it is read
/// (``ArchiveRDBSource``). Blocking:
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
    /// The base read again from the store, whose sha256 it checks (nil: checked bytes).
    private let reread: ArchiveRDBSource?
    let name: String
    let targetVersion: Int?
    let ttl: TTLPolicy
    /// The database the target is in, as the commands made so far leave it (-1 before
    /// the first key: its batch starts with a SELECT, whatever database the connection
    /// was in).
    private(set) var database = -1
    private var keysHinted: UInt64 = 0
    private(set) var finished = false
    /// Once ``finished``: the offset just after the base's CRC-64 trailer, and whether one
    /// was written (not `rdbchecksum no`): where a copy with moved expiries is re-summed.
    var trailer: (end: Int, written: Bool)? {
        guard let end = reader.endOffset, let checksum = reader.checksum else { return nil }
        return (end, checksum != .notWritten)
    }

    /// Opens the base (reading its header): `checkedBase` when the check before writing
    /// kept its bytes, else through the store, checked against its sha256 as it is read.
    /// Throws ``RestoreError`` for a base that is not an RDB this reader reads.
    init(plan: RestorePlan, targetVersion: Int?, ttl: TTLPolicy, checkedBase: CheckedBytes? = nil) throws(RestoreError) {
        let g = plan.generation
        name = plan.baseName
        let source: any RDBByteSource
        switch checkedBase {
        case .memory(let bytes): source = ByteBufferRDBSource(bytes); reread = nil
        case .spooled(let bytes): source = SpooledRDBSource(bytes: bytes, name: name); reread = nil
        case nil:
            let again = ArchiveRDBSource(store: plan.index.store, key: g.path, count: g.size, sha256: g.sha256, what: "the base \(name)")
            source = again; reread = again
        }
        do { reader = try RDBReader(source: source) } catch {
            if let mismatch = reread?.mismatch { throw RestoreError(mismatch) }
            throw RestoreError(.damagedArchive, "the base \(name) is not an RDB this redkeep reads: \(error)", underlying: error)
        }
        self.targetVersion = targetVersion
        self.ttl = ttl
    }

    /// The next `window` keys at most, and about ``ConnectionReplay/batchBytes`` (large
    /// values do not make batches of hundreds of MB), as commands. An empty batch with ``finished`` set
    /// means the base is done (its CRC-64 checked).
    func fill(window: Int) throws(RestoreError) -> Batch {
        var batch = Batch(bytes: ByteBufferAllocator().buffer(capacity: 256 * 1024))
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let shift = nowMs - ttl.targetMs
        while batch.keys < window, batch.bytes.readableBytes < ConnectionReplay.batchBytes, !finished {
            let entry: RDBEntry?
            do { entry = try reader.next() } catch {
                if let mismatch = reread?.mismatch { throw RestoreError(mismatch) }
                throw RestoreError(.damagedArchive, "the base \(name) does not read at byte \(error.offset): \(error.reason)", underlying: error)
            }
            guard let entry else {
                do { try reread?.checkRest() } catch {
                    throw RestoreError(reread?.mismatch ?? ArchiveError(.io, "\(error.reason)", object: name))
                }
                finished = true
                break
            }
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
                let frame: DumpPayload.Frame
                do { frame = try DumpPayload.Frame(for: key, targetVersion: targetVersion) } catch {
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
                if let expiry, expiry < 0 {
                    // Not seen in practice (expiries at or before the target are left out);
                    // sent as it is for the target to refuse by its own rules.
                    append(&batch.bytes, [Array("RESTORE".utf8), key.key, Array(String(expiry).utf8), frame.payload(key),
                                          Array("REPLACE".utf8), Array("ABSTTL".utf8)])
                } else {
                    Self.appendRestore(&batch.bytes, key, ttl: UInt64(expiry ?? 0), frame)
                }
                batch.commands += 1
                batch.keys += 1
            default:
                continue
            }
        }
        batch.keysHinted = keysHinted
        return batch
    }

    /// Appends `RESTORE key ttl payload REPLACE ABSTTL`, the payload written in place
    /// from the key's serialization (no array of it first), through one raw pointer: the
    /// per-key work of the base is most of the restore's CPU.
    static func appendRestore(_ bytes: inout ByteBuffer, _ key: RDBKeyEntry, ttl: UInt64, _ frame: DumpPayload.Frame) {
        let ttlDigits = decimalDigits(ttl)
        let size = restoreHead.count + 1 + decimalDigits(UInt64(key.key.count)) + 2 + key.key.count + 2
            + 1 + decimalDigits(UInt64(ttlDigits)) + 2 + ttlDigits + 2
            + 1 + decimalDigits(UInt64(frame.count)) + 2 + frame.count + 2 + restoreTail.count
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            // Static helpers with the offset inout, not nested functions capturing it (a
            // captured var is boxed, each use an exclusivity check at run time).
            var i = 0
            restoreHead.withUnsafeBytes { put($0, out, &i) }
            putLength(key.key.count, out, &i)
            key.key.withUnsafeBytes { put($0, out, &i) }
            putLine(out, &i)
            putLength(ttlDigits, out, &i)
            i = putDecimal(ttl, out, at: i)
            putLine(out, &i)
            putLength(frame.count, out, &i)
            frame.write(key, into: UnsafeMutableRawBufferPointer(rebasing: out[i..<i + frame.count]))
            i += frame.count
            putLine(out, &i)
            restoreTail.withUnsafeBytes { put($0, out, &i) }
            return i
        }
    }

    @inline(__always)
    private static func put(_ word: UnsafeRawBufferPointer, _ out: UnsafeMutableRawBufferPointer, _ i: inout Int) {
        if let from = word.baseAddress { out.baseAddress!.advanced(by: i).copyMemory(from: from, byteCount: word.count) }
        i += word.count
    }

    @inline(__always)
    private static func putLine(_ out: UnsafeMutableRawBufferPointer, _ i: inout Int) {
        out[i] = 0x0D; out[i + 1] = 0x0A; i += 2
    }

    /// `$n\r\n`, a bulk string's header.
    @inline(__always)
    private static func putLength(_ n: Int, _ out: UnsafeMutableRawBufferPointer, _ i: inout Int) {
        out[i] = UInt8(ascii: "$")
        i = putDecimal(UInt64(n), out, at: i + 1)
        putLine(out, &i)
    }

    /// `*6` and `RESTORE`, before the key.
    static let restoreHead = Array("*6\r\n$7\r\nRESTORE\r\n".utf8)
    /// `REPLACE ABSTTL` after the payload.
    static let restoreTail = Array("$7\r\nREPLACE\r\n$6\r\nABSTTL\r\n".utf8)

    static func decimalDigits(_ n: UInt64) -> Int {
        var digits = 1, rest = n
        while rest >= 10 { rest /= 10; digits += 1 }
        return digits
    }

    /// Writes `n` in decimal at `offset`; returns the offset after it.
    static func putDecimal(_ n: UInt64, _ out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let digits = decimalDigits(n)
        var rest = n, i = offset + digits - 1
        repeat { out[i] = UInt8(ascii: "0") + UInt8(rest % 10); rest /= 10; i -= 1 } while rest > 0
        return offset + digits
    }

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
