import Foundation
import NIOCore
import Operations
import RDB
import RESP
import RedisClient
import Testing

/// The temporary-server path of an RDB base: keys whose RESTORE payload cannot be made
/// go through a local redis-server that loads the base as its dump. Forced here with a
/// real server's dump whose header is lowered to RDB 9 (CRC-64 recomputed): Redis 7.0
/// loads it, but its listpack hash, listpack zset and quicklist-2 list are encodings RDB 9
/// does not have, so no payload stamped RDB 9 may carry them (``DumpPayload`` refuses).
@Suite(.serialized) struct RestoreTemporaryServerTests {
    /// `rdb` claiming RDB `version` in its header, with its trailing CRC-64 made right again.
    static func relabel(_ rdb: [UInt8], version: Int) -> [UInt8] {
        var bytes = rdb
        let digits = Array(String(format: "%04d", version).utf8)
        bytes.replaceSubrange(5..<9, with: digits)
        var crc = CRC64()
        bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 8)])) }
        for k in 0..<8 { bytes[bytes.count - 8 + k] = UInt8(truncatingIfNeeded: crc.value >> (8 * UInt64(k))) }
        return bytes
    }

    /// An archive of `base` (an RDB) and one chunk of `incr` commands after it.
    static func archive(at root: String, base: [UInt8], incr: [UInt8]) throws {
        let store = LocalArchiveStore(root: root)
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: Date().timeIntervalSince1970, source: "test"))
        defer { writer.close() }
        let now = Date().timeIntervalSince1970
        let basePath = ArchiveLayout.basePath(gen: 1, format: .rdb)
        let baseDigest = try store.write(basePath, bytes: base).sha256
        try writer.append(.stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: now - 10, recordedAt: now)))
        try writer.append(.generation(.init(gen: 1, sourceFile: "dump.rdb", sourceSeq: 1, format: .rdb, path: basePath, size: base.count,
                                            sha256: baseDigest, firstStream: 1, asOf: now - 10, recordedAt: now)))
        let chunkPath = ArchiveLayout.chunkPath(stream: 1, offset: 0)
        let chunkDigest = try store.write(chunkPath, bytes: incr).sha256
        try writer.append(.chunk(.init(stream: 1, offset: 0, length: incr.count, sha256: chunkDigest, path: chunkPath, commands: 4,
                                       firstTimestamp: nil, lastTimestamp: nil, copiedAt: now)))
        try writer.append(.streamEnd(.init(stream: 1, size: incr.count, at: now)))
    }

    @Test func keysWithNoPayloadGoThroughATemporaryServerAndTheReportSaysWhich() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", RDBRoundTripTests.options())
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await RDBRoundTripTests.run(c, (0..<200).map { ["SET", "s:\($0)", "value-\($0)"] } + [
                ["HSET", "h:small", "f1", "v1", "f2", "v2"],          // listpack hash (type 16)
                ["ZADD", "z:small", "1", "a", "2", "b"],              // listpack zset (type 17)
                ["RPUSH", "l:list", "x", "y", "z"],                   // quicklist 2 (type 18)
                ["SADD", "i:set", "1", "2", "3"],                     // intset (type 11): a payload is made
                ["PEXPIRE", "h:small", "3600000"],                    // exact (ms) through the temporary server too
                ["PEXPIRE", "s:5", "3600000"],
                ["SELECT", "2"], ["SET", "db2:s", "v"], ["HSET", "db2:h", "f", "v"],
            ])
            _ = try await c.send(["SELECT", "0"])
            _ = try await c.send(["SAVE"])
            let saved = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source.directory + "/dump.rdb")))
            #expect(String(decoding: saved[0..<9], as: UTF8.self) == "REDIS0010", "Redis 7.0 writes RDB 10")
            let base = Self.relabel(saved, version: 9)

            // The incr stream touches a key that goes through the temporary server: it must
            // be there, with its base value, before the stream is applied.
            let incr: [RESPCommand] = [["HSET", "h:small", "f3", "v3"], ["SET", "s:0", "changed"], ["RPUSH", "l:list", "w"], ["DEL", "s:1"]]
            var stream = ByteBuffer()
            for command in incr { stream.writeRESPCommand(command) }
            _ = try await c.pipeline(incr)
            let expected = try await RDBRoundTripTests.digest(c)
            let archive = try restoreTemporaryFolder("archive", in: lab)
            try Self.archive(at: archive, base: base, incr: Array(stream.readableBytesView))

            // The restore: exact, and the report names each key and why.
            let target = try await lab.start("target", RDBRoundTripTests.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            let report = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                               destination: .connection(t, name: "target", scratch: lab), options: RestoreOptions(window: 16))
            #expect(try await RDBRoundTripTests.digest(t) == expected, "the restore is not exact")
            #expect(try await t.send(["PTTL", "h:small"]).int ?? -1 > 0, "h:small keeps its TTL through the temporary server")
            let o = report.outcome
            #expect(o.baseKeys == 206 && o.baseKeysThroughTemporaryServer == 4, "\(String(describing: o.baseKeys)) \(o.baseKeysThroughTemporaryServer)")
            #expect(o.commands == 4)
            let why = o.baseKeysThroughTemporaryServerWhy
            #expect(why.count == 4, "\(why)")
            for (key, db) in [("h:small", 0), ("z:small", 0), ("l:list", 0), ("db2:h", 2)] {
                #expect(why.contains { $0.hasPrefix("key \"\(key)\" in db \(db): ") && $0.contains("says it is RDB 9") }, "\(key) is not named with why: \(why)")
            }
            #expect(!why.contains { $0.contains("i:set") || $0.contains("s:") }, "keys that had a payload went the fast way: \(why)")
            let temporary = await lab.servers.filter { $0.name.hasPrefix("restore-base-") }
            #expect(temporary.count == 1, "one temporary server ran: \(temporary.map(\.name))")
            for server in temporary { #expect(await !lab.isRunning(server.name), "the temporary server \(server.name) was stopped") }

            // Through the shell, as a user runs it: the report says which keys and why.
            let other = try await lab.start("other", RDBRoundTripTests.options())
            let run = try RedkeepBinaryTests.redkeep(["-c", "connect other 127.0.0.1:\(other.port); replay-until now --archive \(archive) --into other"],
                                                     environment: ["REDKEEP_SERVER": "redis-server"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("base_keys_through_temporary_server") && run.out.contains("key \"z:small\" in db 0:")
                    && run.out.contains("says it is RDB 9"), "\(run.out)")
            let shellTarget = try await RedisConnection.connect(other.connectionConfiguration)
            #expect(try await RDBRoundTripTests.digest(shellTarget) == expected)

            // With nowhere to run a temporary server, the restore refuses naming the keys.
            let refused = try await lab.start("refused", RDBRoundTripTests.options())
            let r = try await RedisConnection.connect(refused.connectionConfiguration)
            do {
                _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                          destination: .connection(r, name: "refused", scratch: nil))
                Issue.record("a restore with keys that need a temporary server, and none, succeeded")
            } catch let error as RestoreError {
                #expect(error.message.contains("cannot be sent as RESTORE payloads") && error.message.contains("key \"h:small\" in db 0"), "\(error.message)")
            }
            await r.close()
            await shellTarget.close()
            await t.close()
            await c.close()
        }
    }

    /// `--ttl-as-of-target` on keys that go through the temporary server: written with
    /// short TTLs before the target, restored after they expired. The server loading the
    /// base drops expired keys, so their expiries are moved in its copy of the base.
    @Test func ttlsAsOfTheTargetApplyToKeysThroughTheTemporaryServer() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", RDBRoundTripTests.options())
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let shortAt = now + 4000, longAt = now + 3_600_000
            try await RDBRoundTripTests.run(c, [
                ["HSET", "h:short", "f", "v"], ["PEXPIREAT", "h:short", String(shortAt)],   // listpack hash: temporary server
                ["ZADD", "z:short", "1", "a"], ["PEXPIREAT", "z:short", String(shortAt)],   // listpack zset: temporary server
                ["SET", "s:short", "v"], ["PEXPIREAT", "s:short", String(shortAt)],         // a string: a payload
                ["HSET", "h:long", "f", "v"], ["PEXPIREAT", "h:long", String(longAt)],      // alive now: moved too
                ["HSET", "h:none", "f", "v"], ["SET", "s:none", "v"],
                ["SELECT", "3"], ["RPUSH", "l:short", "a", "b"], ["PEXPIREAT", "l:short", String(shortAt)],
            ])
            _ = try await c.send(["SELECT", "0"])
            _ = try await c.send(["SAVE"])
            let saved = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source.directory + "/dump.rdb")))
            let incr: [RESPCommand] = (1...4).map { ["SET", .string("after:\($0)"), "v"] }
            var stream = ByteBuffer()
            for command in incr { stream.writeRESPCommand(command) }
            let archive = try restoreTemporaryFolder("archive", in: lab)
            try Self.archive(at: archive, base: Self.relabel(saved, version: 9), incr: Array(stream.readableBytesView))
            // Everything archived: the target is the archive's last covered moment.
            let targetMs = Int64(RestorePlan.coverage(try ArchiveIndex.read(LocalArchiveStore(root: archive))).upperBound * 1000)
            #expect(targetMs < shortAt, "the short keys must be alive at the target")
            while Int64(Date().timeIntervalSince1970 * 1000) <= shortAt + 100 { try await Task.sleep(for: .milliseconds(100)) }

            // Without the option: the short keys are gone, counted; h:long keeps its expiry.
            let plain = try await lab.start("plain", RDBRoundTripTests.options())
            let p = try await RedisConnection.connect(plain.connectionConfiguration)
            let today = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                              destination: .connection(p, name: "plain", scratch: lab))
            #expect(try await p.send(["EXISTS", "h:short", "z:short", "s:short"]).int == 0)
            #expect(try await p.send(["PEXPIRETIME", "h:long"]).int == Int(longAt), "h:long keeps the base's expiry without the option")
            #expect(today.outcome.baseKeysExpiredSinceTarget == 4 && today.outcome.baseKeysTTLShifted == 0, "\(today.outcome)")
            #expect(today.outcome.baseKeysThroughTemporaryServer == 2, "h:long and h:none")

            // With it: every key alive at the target is back, with the TTL it had then.
            let forensic = try await lab.start("forensic", RDBRoundTripTests.options())
            let f = try await RedisConnection.connect(forensic.connectionConfiguration)
            var options = RestoreOptions()
            options.ttlAsOfTarget = true
            let asOf = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                             destination: .connection(f, name: "forensic", scratch: lab), options: options)
            let o = asOf.outcome
            #expect(o.baseKeysTTLShifted == 5 && o.baseKeysExpiredSinceTarget == 0, "\(o)")
            #expect(o.baseKeysThroughTemporaryServer == 5, "h:short, z:short, h:long, h:none and l:short: \(o.baseKeysThroughTemporaryServerWhy)")
            #expect(o.baseKeys == 7)
            let expectedTTL = shortAt - targetMs
            for (key, db) in [("h:short", 0), ("z:short", 0), ("s:short", 0), ("l:short", 3)] {
                _ = try await f.send(["SELECT", .string(String(db))])
                let ttl = try #require(try await f.send(["PTTL", .string(key)]).int)
                #expect(abs(Int64(ttl) - expectedTTL) <= 1000, "\(key) has PTTL \(ttl), it had \(expectedTTL) at the target")
            }
            _ = try await f.send(["SELECT", "0"])
            let longTTL = try #require(try await f.send(["PTTL", "h:long"]).int)
            #expect(abs(Int64(longTTL) - (longAt - targetMs)) <= 1000, "h:long has PTTL \(longTTL), it had \(longAt - targetMs) at the target")
            #expect(try await f.send(["PTTL", "h:none"]).int == -1)
            #expect(try await f.send(["HGET", "h:short", "f"]).string == "v")

            // Through the shell, as a user runs it: the report counts them.
            let other = try await lab.start("other", RDBRoundTripTests.options())
            let run = try RedkeepBinaryTests.redkeep(["-c", "connect other 127.0.0.1:\(other.port); replay-until now --archive \(archive) --into other --ttl-as-of-target"],
                                                     environment: ["REDKEEP_SERVER": "redis-server"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("base_keys_ttl_as_of_target") && run.out.contains("base_keys_through_temporary_server"), "\(run.out)")
            let shellTarget = try await RedisConnection.connect(other.connectionConfiguration)
            #expect(try await shellTarget.send(["EXISTS", "h:short", "z:short"]).int == 2)
            await shellTarget.close()
            await f.close()
            await p.close()
            await c.close()
        }
    }
}
