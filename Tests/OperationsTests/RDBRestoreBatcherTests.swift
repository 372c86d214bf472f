import Foundation
import NIOCore
import RDB
import RESP
import Testing

@testable import Operations

/// The RESTORE commands of an RDB base, written by hand through one pointer for speed,
/// are byte for byte what the generic RESP encoder makes of the same words.
@Suite struct RDBRestoreBatcherTests {
    /// An RDB 10 of string keys in database 0 then 3, with and without an expiry, the
    /// trailer left at zero (`rdbchecksum no`).
    static func rdb(_ keys: [(db: Int, key: String, value: String, expiresAtMs: UInt64?)]) -> [UInt8] {
        var out = Array("REDIS0010".utf8)
        var db = -1
        for k in keys {
            if k.db != db { out += [0xFE, UInt8(k.db)]; db = k.db }
            if let at = k.expiresAtMs { out.append(0xFC); for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: at >> (8 * UInt64(i)))) } }
            out.append(0)  // a string
            for s in [k.key, k.value] {
                let bytes = Array(s.utf8)
                precondition(bytes.count < 1 << 14)
                out += bytes.count < 64 ? [UInt8(bytes.count)] : [0x40 | UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)]
                out += bytes
            }
        }
        return out + [0xFF] + [UInt8](repeating: 0, count: 8)
    }

    @Test func restoreCommandsAreTheGenericEncoding() throws {
        let long = String(repeating: "v", count: 300)
        let file = Self.rdb([(0, "k", "v", nil), (0, "", "empty key", nil), (0, "ttl", long, 1_900_000_000_123),
                             (3, "other-db", "x", 9), (3, String(repeating: "k", count: 70), long, nil)])
        let reader = try RDBReader(source: RDBMemorySource(file))
        var keys = 0
        while let entry = try reader.next() {
            guard case .key(let key) = entry else { continue }
            keys += 1
            let ttl = UInt64(key.expiresAtMs ?? 0)
            var ours = ByteBuffer()
            RDBRestoreBatcher.appendRestore(&ours, key, ttl: ttl, try DumpPayload.Frame(for: key, targetVersion: 10))
            var generic = ByteBuffer()
            generic.writeRESPCommand(["RESTORE", .bytes(ByteBuffer(bytes: key.key)), .string(String(ttl)),
                                      .bytes(ByteBuffer(bytes: try DumpPayload.make(for: key, targetVersion: 10))), "REPLACE", "ABSTTL"])
            #expect(ours == generic, "key \(key.keyDescription)")
        }
        #expect(keys == 5)
    }

    @Test func theFrameWritesThePayloadMakeReturns() throws {
        let reader = try RDBReader(source: RDBMemorySource(Self.rdb([(0, "k", "hello", nil)])))
        var made: [UInt8]?
        while let entry = try reader.next() {
            guard case .key(let key) = entry else { continue }
            let frame = try DumpPayload.Frame(for: key, targetVersion: 9)
            made = try DumpPayload.make(for: key, targetVersion: 9)
            #expect(frame.payload(key) == made)
            #expect(frame.count == made?.count && frame.version == 9)
        }
        // Type 0, the value "hello", version 9, then the CRC-64 of all that.
        let body: [UInt8] = [0, 5] + Array("hello".utf8) + [9, 0]
        #expect(made.map { Array($0.prefix(body.count)) } == body)
        #expect(made.map { Array($0.suffix(8)) } == (0..<8).map { UInt8(truncatingIfNeeded: CRC64.checksum(body) >> (8 * UInt64($0))) })
    }
}
