import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Keys alive at the target second whose expiry passed before the restore: the server
/// deletes them as they are replayed, so the report counts them (the incr stream's and an
/// AOF-format base's alike); `--ttl-as-of-target` keeps them instead.
@Suite(.serialized) struct RestoreExpiredSinceTargetTests {
    @Test func expiriesPassedSinceTheTargetAreCountedOrKept() async throws {
        try await withLab { lab in
            // An AOF-format base (no RDB preamble): its expiries are PEXPIREAT commands.
            let source = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes"), ("aof-use-rdb-preamble", "no")]))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            let ttlMs: Int64 = 8000
            let written = Int64(Date().timeIntervalSince1970 * 1000)
            _ = try await c.pipeline((0..<3).map { ["SET", .string("base:\($0)"), "v", "PX", .string(String(ttlMs))] })
            _ = try await c.send(["SET", "base:keep", "v"])
            try await RestoreRDBBaseTests.rewrite(c)
            // The incr stream: relative expiries, written by Redis to its AOF as absolute times.
            _ = try await c.send(["SET", "incr:px", "v", "PX", .string(String(ttlMs))])
            _ = try await c.send(["SET", "incr:expire", "v"])
            _ = try await c.send(["EXPIRE", "incr:expire", .string(String(ttlMs / 1000))])
            _ = try await c.send(["SET", "incr:keep", "v"])
            let archive = try await RestoreRDBBaseTests.archive(source, in: lab)
            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.last?.format == .aof, "the base should be in AOF format")
            let second = currentSecond()
            #expect((second + 1) * 1000 < written + ttlMs, "the short keys must be alive at the target")
            // Until the short keys have expired everywhere.
            while Int64(Date().timeIntervalSince1970 * 1000) <= written + ttlMs + 1100 { try await Task.sleep(for: .milliseconds(100)) }

            let (p, today) = try await RestoreRDBBaseTests.restore(archive, second: second, into: "plain", ttlAsOfTarget: false, in: lab)
            #expect(try await p.send(["EXISTS", "base:0", "base:1", "base:2", "incr:px", "incr:expire"]).int == 0)
            #expect(try await p.send(["DBSIZE"]).int == 2, "base:keep and incr:keep")
            #expect(today.outcome.incrExpiriesPassedSinceTarget == 2, "\(today.outcome)")
            #expect(today.outcome.baseKeysExpiredSinceTarget == 3 && today.outcome.baseKeysTTLShifted == 0, "\(today.outcome)")
            #expect(today.outcome.incrExpiriesShifted == 0)

            let (f, asOf) = try await RestoreRDBBaseTests.restore(archive, second: second, into: "forensic", ttlAsOfTarget: true, in: lab)
            #expect(try await f.send(["EXISTS", "base:0", "base:1", "base:2", "incr:px", "incr:expire"]).int == 5)
            #expect(try await f.send(["DBSIZE"]).int == 7)
            #expect(asOf.outcome.incrExpiriesShifted == 2 && asOf.outcome.incrExpiriesPassedSinceTarget == 0, "\(asOf.outcome)")
            #expect(asOf.outcome.baseKeysTTLShifted == 3 && asOf.outcome.baseKeysExpiredSinceTarget == 0, "\(asOf.outcome)")
            let ttl = try #require(try await f.send(["PTTL", "incr:px"]).int)
            #expect(ttl > 0 && Int64(ttl) <= ttlMs, "incr:px has PTTL \(ttl)")

            // The shell's report names the count and the option that keeps them.
            let other = try await lab.start("other")
            let run = try RedkeepBinaryTests.redkeep([try RedkeepBinaryTests.temporaryFile("restore.rk", """
                connect other 127.0.0.1:\(other.port)
                replay-until @\(second) --archive \(archive) --into other
                """)])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("incr_expiries_passed_since_target") && run.out.contains("--ttl-as-of-target keeps them"), "\(run.out)")
            await f.close()
            await p.close()
            await c.close()
        }
    }
}
