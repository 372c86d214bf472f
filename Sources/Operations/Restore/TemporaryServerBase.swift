import Foundation
import RDB

/// What copying keys through a temporary server did, for the report.
struct TemporaryServerCopy: Sendable {
    /// Keys the target acknowledged.
    var copied = 0
    /// Of those, keys restored with the TTL they had at the target (`--ttl-as-of-target`).
    var ttlShifted = 0
    /// Keys whose expiry passed between reading the base and copying them: not restored.
    var expiredMeanwhile = 0
}

/// The copy of an RDB base that a temporary server loads for the keys no RESTORE payload
/// could be made for. With `--ttl-as-of-target` their expiries are moved in the copy
/// itself: a server loading an RDB drops every key whose expiry has passed, so a key alive
/// at the target but expired since would never reach DUMP, and one still alive would keep
/// today's expiry.
enum TemporaryServerBase {
    /// Overwrites, in the base copied to `path`, the expiry of each of `keys` that was
    /// moved (``RDBRestoreBatcher/Unrestorable/shifted``) with its new absolute time (an
    /// expiry in seconds is rounded up to the next second), then writes the CRC-64 of the
    /// bytes before the trailer into it so the server accepts the copy. `trailer` is the
    /// reader's: where the RDB ends and whether it has a checksum (nil: the file's end,
    /// and a checksum unless its trailer is zero). Blocking.
    static func moveExpiries(in path: String, of keys: [RDBRestoreBatcher.Unrestorable],
                             trailer: (end: Int, written: Bool)?) throws(RestoreError) {
        let moved = keys.filter(\.shifted)
        guard !moved.isEmpty else { return }
        guard let file = FileHandle(forUpdatingAtPath: path) else {
            throw RestoreError(.destination, "cannot open the temporary server's copy of the base \(path) to move the expiries of \(moved.count) keys (--ttl-as-of-target)")
        }
        defer { try? file.close() }
        do {
            for key in moved {
                guard let offset = key.expiryOffset, let ms = key.expiresAtMs else { continue }
                try file.seek(toOffset: UInt64(offset))
                let opcode = try file.read(upToCount: 1)?.first
                switch opcode {
                case 0xFC:
                    try file.write(contentsOf: littleEndian(UInt64(bitPattern: ms), width: 8))
                case 0xFD:
                    let seconds = min(Int64(Int32.max), (ms + 999) / 1000)
                    try file.write(contentsOf: littleEndian(UInt64(bitPattern: seconds), width: 4))
                default:
                    throw RestoreError(.damagedArchive, "the base copied to \(path) has no expiry opcode at byte \(offset), where the reader found the expiry of key \(key.keyDescription) in db \(key.database) (found \(opcode.map { "0x" + String($0, radix: 16) } ?? "the end of the file"))")
                }
            }
            let size = Int(try file.seekToEnd())
            let end = trailer?.end ?? size
            guard end >= 17, end <= size else {
                throw RestoreError(.damagedArchive, "the base copied to \(path) is \(size) bytes; its RDB trailer cannot end at byte \(end)")
            }
            try file.seek(toOffset: UInt64(end - 8))
            let stored = try file.read(upToCount: 8) ?? Data()
            guard trailer?.written ?? stored.contains(where: { $0 != 0 }) else { try file.synchronize(); return }
            var crc = CRC64()
            try file.seek(toOffset: 0)
            var position = 0
            while position < end - 8 {
                guard let piece = try file.read(upToCount: min(4 << 20, end - 8 - position)), !piece.isEmpty else {
                    throw RestoreError(.damagedArchive, "the base copied to \(path) ends at byte \(position), before its trailer at byte \(end - 8)")
                }
                piece.withUnsafeBytes { crc.update($0) }
                position += piece.count
            }
            try file.seek(toOffset: UInt64(end - 8))
            try file.write(contentsOf: littleEndian(crc.value, width: 8))
            try file.synchronize()
        } catch let error as RestoreError {
            throw error
        } catch {
            throw RestoreError(.destination, "cannot move the expiries of \(moved.count) keys (--ttl-as-of-target) in the temporary server's copy of the base \(path): \(error.localizedDescription)", underlying: error)
        }
    }

    private static func littleEndian(_ value: UInt64, width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
