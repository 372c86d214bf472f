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
        guard entry.hasName("SET") || entry.hasName("GETEX") || entry.hasName("PEXPIREAT") || entry.hasName("EXPIREAT")
              || entry.hasName("RESTORE") else { return nil }
        var words = entry.arguments.map { Array($0.readableBytesView) }
        let name = String(decoding: words[0], as: UTF8.self).uppercased()
        func upper(_ i: Int) -> String { String(decoding: words[i], as: UTF8.self).uppercased() }
        func number(_ i: Int) -> Int64? { i < words.count ? Int64(String(decoding: words[i], as: UTF8.self)) : nil }
        switch name {
        case "PEXPIREAT", "EXPIREAT":
            guard let at = number(2) else { return nil }
            words[0] = Array("PEXPIREAT".utf8)
            words[2] = Array(String(move(name == "EXPIREAT" ? at &* 1000 : at)).utf8)
        case "SET", "GETEX":
            let first = name == "SET" ? 3 : 2
            guard first < words.count, let i = (first..<words.count).first(where: { ["PXAT", "EXAT"].contains(upper($0)) }),
                  let at = number(i + 1) else { return nil }
            let ms = upper(i) == "EXAT" ? at &* 1000 : at
            words[i] = Array("PXAT".utf8)
            words[i + 1] = Array(String(move(ms)).utf8)
        case "RESTORE":
            guard words.count > 4, (4..<words.count).contains(where: { upper($0) == "ABSTTL" }), let at = number(2), at > 0 else { return nil }
            words[2] = Array(String(move(at)).utf8)
        default:
            return nil
        }
        return words
    }

    private func move(_ ms: Int64) -> Int64 { ms &+ shiftMs }
}
