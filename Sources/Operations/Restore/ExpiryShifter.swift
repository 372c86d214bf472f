import AOF
import Foundation
import NIOCore
import RESP

/// Rewrites the absolute expiries of incr commands for `--ttl-as-of-target`: the time
/// argument of `SET ... PXAT|EXAT`, `GETEX ... PXAT|EXAT`, `PEXPIREAT`, `EXPIREAT` and
/// `RESTORE ... ABSTTL` is moved by now minus the target (seconds forms become their
/// millisecond forms), so a key keeps the time to live it had at the target. Redis 7
/// writes every expiry to its AOF in one of these absolute forms. Other commands pass
/// unchanged. Used by one batch filler at a time.
final class ExpiryShifter: @unchecked Sendable {
    // @unchecked: used by one task at a time, each batch awaited before the next.

    /// The target moment, unix milliseconds.
    let targetMs: Int64
    /// Milliseconds added to each absolute expiry: now minus the target, as of the batch.
    private(set) var shiftMs: Int64 = 0
    /// Commands rewritten so far.
    private(set) var rewritten = 0

    init(targetMs: Int64) { self.targetMs = targetMs }

    /// Takes the clock for the next batch.
    func startBatch() { shiftMs = Int64(Date().timeIntervalSince1970 * 1000) - targetMs }

    /// Appends `entry` to `out`, its expiry moved when it has one.
    func append(_ entry: AOFEntry, to out: inout ByteBuffer) {
        if let words = shifted(entry) {
            out.writeRESPBulkArray(words, length: { $0.count }, copy: { word, raw in word.withUnsafeBytes { raw.copyMemory(from: $0) } })
            rewritten += 1
        } else {
            var bytes = entry.bytes
            out.writeBuffer(&bytes)
        }
    }

    /// The command's words with the expiry moved, or nil when it has none to move.
    func shifted(_ entry: AOFEntry) -> [[UInt8]]? {
        guard Self.mayCarryAbsoluteExpiry(entry) else { return nil }
        var words = entry.arguments.map { Array($0.readableBytesView) }
        guard let expiry = Self.absoluteExpiry(in: words) else { return nil }
        if let unit = expiry.unit { words[unit.index] = unit.millisecondForm.withUTF8Buffer { Array($0) } }
        words[expiry.index] = Array(String(move(expiry.ms)).utf8)
        return words
    }

    /// Where a command's absolute expiry is: the word holding the time, the word naming
    /// its unit with that word's milliseconds form (`EXAT` -> `PXAT` of SET and GETEX, the
    /// name `EXPIREAT` -> `PEXPIREAT`; nil for RESTORE), and the time in unix milliseconds.
    struct AbsoluteExpiry {
        let index: Int
        let unit: (index: Int, millisecondForm: StaticString)?
        let ms: Int64
    }

    /// True when the command's name is one that can carry an absolute expiry, with enough
    /// words for one: the cheap check (no allocation) done on every command before its
    /// words are looked at, so a plain `SET k v` costs two comparisons.
    @inline(__always)
    static func mayCarryAbsoluteExpiry(_ entry: AOFEntry) -> Bool {
        let words = entry.argumentCount
        guard words >= 3 else { return false }
        return (words >= 5 && (entry.hasName("SET") || entry.hasName("RESTORE"))) || (words >= 4 && entry.hasName("GETEX"))
            || entry.hasName("PEXPIREAT") || entry.hasName("EXPIREAT")
    }

    /// The absolute expiry (unix ms) the command gives its key, nil when it gives none.
    static func absoluteExpiryMs(_ entry: AOFEntry) -> Int64? {
        guard mayCarryAbsoluteExpiry(entry) else { return nil }
        return absoluteExpiry(in: entry.arguments.map { Array($0.readableBytesView) })?.ms
    }

    /// The one place that says which argument of which command is an absolute expiry.
    static func absoluteExpiry(in words: [[UInt8]]) -> AbsoluteExpiry? {
        guard !words.isEmpty else { return nil }
        let name = String(decoding: words[0], as: UTF8.self).uppercased()
        func upper(_ i: Int) -> String { String(decoding: words[i], as: UTF8.self).uppercased() }
        func number(_ i: Int) -> Int64? { i < words.count ? Int64(String(decoding: words[i], as: UTF8.self)) : nil }
        switch name {
        case "PEXPIREAT", "EXPIREAT":
            guard let at = number(2) else { return nil }
            return AbsoluteExpiry(index: 2, unit: (0, "PEXPIREAT"), ms: name == "EXPIREAT" ? at &* 1000 : at)
        case "SET", "GETEX":
            let first = name == "SET" ? 3 : 2
            guard first < words.count, let i = (first..<words.count).first(where: { ["PXAT", "EXAT"].contains(upper($0)) }),
                  let at = number(i + 1) else { return nil }
            return AbsoluteExpiry(index: i + 1, unit: (i, "PXAT"), ms: upper(i) == "EXAT" ? at &* 1000 : at)
        case "RESTORE":
            guard words.count > 4, (4..<words.count).contains(where: { upper($0) == "ABSTTL" }), let at = number(2), at > 0 else { return nil }
            return AbsoluteExpiry(index: 2, unit: nil, ms: at)
        default:
            return nil
        }
    }

    private func move(_ ms: Int64) -> Int64 { ms &+ shiftMs }
}

/// Counts, for a replay without `--ttl-as-of-target`, the commands whose absolute expiry
/// lies after the target but not after now: their keys were alive at the target, and the
/// server deletes them as soon as they are replayed.
struct PassedExpiryWindow: Sendable {
    /// The target moment, unix milliseconds.
    let targetMs: Int64
    /// Now, unix milliseconds, as of the batch being filled.
    var nowMs: Int64

    init(targetMs: Int64) {
        self.targetMs = targetMs
        self.nowMs = Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Takes the clock for the next batch.
    mutating func startBatch() { nowMs = Int64(Date().timeIntervalSince1970 * 1000) }

    /// True when `entry` gives its key an absolute expiry in (target, now].
    @inline(__always)
    func passed(_ entry: AOFEntry) -> Bool {
        guard let at = ExpiryShifter.absoluteExpiryMs(entry) else { return false }
        return at > targetMs && at <= nowMs
    }
}
