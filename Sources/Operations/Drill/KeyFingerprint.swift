import Foundation
import RDB

/// What the drill keeps of one key: its type, a digest of its value that does not depend
/// on the encoding, and its absolute expiry.
///
/// `DEBUG DIGEST-VALUE` would be cheaper on the wire, but Redis 7 refuses `DEBUG` unless
/// `enable-debug-command` allows it (the default is `no`, even locally). So the drill
/// reads `DUMP`, decodes the payload (the RDB reader) and digests the value in a
/// canonical order: sets and hashes by member, sorted sets by member with their scores,
/// lists and stream entries in their order. A set restored as a listpack and the live
/// one still a hash table then digest the same, where their DUMP bytes would not.
struct KeyFingerprint: Sendable, Hashable {
    /// The data type (`string`, `list`, `set`, `zset`, `hash`, `stream`, `module`).
    var type: String
    /// SHA-256 of the canonical value, hex.
    var digest: String
    /// The absolute expiry, unix milliseconds (nil: none).
    var expiresAtMs: Int64?

    /// The fingerprint of a DUMP payload. A payload that does not decode (a module value)
    /// is digested as its bytes: equal only to the same bytes.
    static func of(payload: [UInt8], key: [UInt8], expiresAtMs: Int64?) -> KeyFingerprint {
        let value: RDBValue
        do { value = try DumpPayload.value(of: payload, key: key) } catch {
            var hasher = SHA256Hasher()
            hasher.update(payload.dropLast(10))
            return KeyFingerprint(type: "undecoded (\(error.kind))", digest: hasher.finish(), expiresAtMs: expiresAtMs)
        }
        var digest = CanonicalDigest()
        let type: String
        switch value {
        case .string(let s):
            type = "string"
            digest.add(s)
        case .list(let items):
            type = "list"
            for item in items { digest.add(item) }
        case .set(let members):
            type = "set"
            for member in members.sorted(by: { $0.lexicographicallyPrecedes($1) }) { digest.add(member) }
        case .hash(let fields):
            type = "hash"
            for f in fields.sorted(by: { $0.field.lexicographicallyPrecedes($1.field) }) {
                digest.add(f.field)
                digest.add(f.value)
                digest.add(f.expiresAtMs ?? 0)
            }
        case .sortedSet(let members):
            type = "zset"
            for m in members.sorted(by: { $0.member.lexicographicallyPrecedes($1.member) }) {
                digest.add(m.member)
                digest.add((m.score == 0 ? 0 : m.score).bitPattern)  // -0 and 0 are one score
            }
        case .stream(let stream):
            // Entries and groups' positions; delivery and seen times are left out (a
            // replayed XREADGROUP stamps its own clock).
            type = "stream"
            digest.add(stream.lastID.ms); digest.add(stream.lastID.seq)
            for entry in stream.entries {
                digest.add(entry.id.ms); digest.add(entry.id.seq)
                for f in entry.fields { digest.add(f.field); digest.add(f.value) }
            }
            for group in stream.groups.sorted(by: { $0.name.lexicographicallyPrecedes($1.name) }) {
                digest.add(group.name)
                digest.add(group.lastDeliveredID.ms); digest.add(group.lastDeliveredID.seq)
                for p in group.pending.sorted(by: { $0.id < $1.id }) { digest.add(p.id.ms); digest.add(p.id.seq) }
            }
        case .module(let module):
            type = "module \(module.typeName)"
            digest.add(payload.dropLast(10))
        }
        return KeyFingerprint(type: type, digest: digest.finish(), expiresAtMs: expiresAtMs)
    }
}

/// SHA-256 over length-prefixed parts, so `["ab", "c"]` and `["a", "bc"]` differ.
private struct CanonicalDigest {
    private var hasher = SHA256Hasher()

    mutating func add<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        add(UInt64(bytes.count))
        hasher.update(bytes)
    }

    mutating func add(_ number: UInt64) {
        withUnsafeBytes(of: number.littleEndian) { hasher.update($0) }
    }

    mutating func add(_ number: Int64) { add(UInt64(bitPattern: number)) }

    func finish() -> String { hasher.finish() }
}
