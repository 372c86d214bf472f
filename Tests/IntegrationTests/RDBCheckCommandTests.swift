import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// `rdb check FILE` through the redkeep binary, on a real server's dump.rdb.
@Suite(.serialized) struct RDBCheckCommandTests {
    @Test func aGoodDumpIsDescribedAndADamagedOneFailsWithItsOffset() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", RDBRoundTripTests.options())
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await RDBRoundTripTests.populate(c)
            _ = try await c.send(["SAVE"])
            await c.close()
            let dump = server.directory + "/dump.rdb"
            let good = try RedkeepBinaryTests.redkeep(["-c", "rdb check \(dump)"])
            #expect(good.status == 0, "\(good.err)")
            #expect(good.out.contains("REDIS0010") && good.out.contains("verified"), "\(good.out)")
            #expect(good.out.contains("redis-ver") && good.out.contains("7.0"), "the aux fields: \(good.out)")
            #expect(good.out.contains("hash=") && good.out.contains("stream="), "keys by type: \(good.out)")

            // One byte changed inside a value: the CRC-64 (or the value's own structure) says so.
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dump)))
            let at = bytes.count / 2
            bytes[at] ^= 0x5A
            let damaged = lab.root + "/damaged.rdb"
            try Data(bytes).write(to: URL(fileURLWithPath: damaged))
            let bad = try RedkeepBinaryTests.redkeep(["-c", "rdb check \(damaged)"])
            #expect(bad.status == 3, "\(bad.out) \(bad.err)")
            #expect(bad.err.contains("not valid at byte"), "\(bad.err)")

            let missing = try RedkeepBinaryTests.redkeep(["-c", "rdb check \(lab.root)/none.rdb"])
            #expect(missing.status == 3 && missing.err.contains("cannot open \(lab.root)/none.rdb"), "\(missing.err)")
        }
    }
}
