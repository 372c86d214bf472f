import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// An RDB base goes to the target as RESTORE payloads made from its keys: no temporary
/// server, no redis-server binary needed; and its TTLs can be as of the target.
@Suite(.serialized) struct RestoreRDBBaseTests {
    /// Rewrites the source's AOF (its base becomes an RDB) and waits until it is done.
    static func rewrite(_ c: RedisConnection) async throws {
        _ = try await c.send(["BGREWRITEAOF"])
        for _ in 0..<400 {
            let info = try await c.info("persistence")
            if info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("BGREWRITEAOF did not finish within 20 s")
    }

    /// Archives what `source` has written, once its AOF is on disk (appendfsync everysec),
    /// in a new folder of the lab; returns the folder.
    static func archive(_ source: LocalServer, in lab: Lab) async throws -> String {
        try await Task.sleep(for: .milliseconds(1100))
        let archive = try restoreTemporaryFolder("archive", in: lab)
        try RestoreArchiveBuilder(root: archive, serverDirectory: source.directory).collect()
        return archive
    }

    /// Restores `archive` as of the end of `second` into a new server of the lab named
    /// `name`, with `--ttl-as-of-target` or without; returns its connection and the report.
    static func restore(_ archive: String, second: Int64, into name: String, ttlAsOfTarget: Bool, in lab: Lab) async throws -> (RedisConnection, RestoreReport) {
        let server = try await lab.start(name)
        let connection = try await RedisConnection.connect(server.connectionConfiguration)
        var options = RestoreOptions()
        options.ttlAsOfTarget = ttlAsOfTarget
        let report = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .time(second: second, inclusive: true),
                                           destination: .connection(connection, name: name, scratch: nil), options: options)
        return (connection, report)
    }

    @Test func anRDBBaseOfEveryTypeLoadsWithNoServerBinaryAtAll() async throws {
        try await withLab { lab in
            var options = RDBRoundTripTests.options([("aof-disable-auto-gc", "yes")])
            options.appendOnly = true
            options.aofTimestamps = true
            let source = try await lab.start("source", options)
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await RDBRoundTripTests.populate(c)
            try await Self.rewrite(c)
            _ = try await c.pipeline((0..<500).map { ["SET", .string("incr:\($0)"), "v"] })
            let archive = try await Self.archive(source, in: lab)
            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.first?.format == .rdb, "the base should be an RDB")
            let expected = try await RDBRoundTripTests.digest(c)

            // Through Operations, with no scratch Lab: nothing could start a server.
            let target = try await lab.start("target", RDBRoundTripTests.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            let report = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                               destination: .connection(t, name: "target", scratch: nil), options: RestoreOptions(window: 64))
            #expect(try await RDBRoundTripTests.digest(t) == expected)
            #expect(report.outcome.baseKeys == 60 && report.outcome.baseKeysThroughTemporaryServer == 0)
            #expect(report.outcome.commands >= 500, "the incr writes after the base (and their SELECT)")

            // Through the shell, with REDKEEP_SERVER pointing nowhere.
            let other = try await lab.start("other", RDBRoundTripTests.options())
            let run = try RedkeepBinaryTests.redkeep([try RedkeepBinaryTests.temporaryFile("restore.rk", """
                connect other 127.0.0.1:\(other.port)
                replay-until now --archive \(archive) --into other
                """)], environment: ["REDKEEP_SERVER": lab.root + "/no-such-redis-server"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("base_keys") && run.out.contains("60"), "\(run.out)")
            let o = try await RedisConnection.connect(other.connectionConfiguration)
            #expect(try await RDBRoundTripTests.digest(o) == expected)

            // The base's keys, listed from the archive: "was this key in that base?"
            let listing = try BaseKeyListing.list(index, generation: 1, pattern: "h:*", limit: 100)
            #expect(listing.totalKeys == 60 && listing.matchingKeys == 9)
            let hsmall = try #require(listing.keys.first { $0.database == 1 && $0.key == "\"h:small\"" })
            #expect(hsmall.type == "hash" && hsmall.elements == 2 && hsmall.expiresAtMs != nil)
            #expect(listing.keys.first { $0.database == 0 && $0.key == "\"h:big\"" }?.elements == 600)
            #expect(!listing.keys.contains { $0.key.hasPrefix("\"incr:") }, "incr keys are not in the base")
            let shell = try RedkeepBinaryTests.redkeep(["-c", "archive log \(archive) --base latest --key 'h:sm*'"])
            #expect(shell.status == 0 && shell.out.contains("h:small") && shell.out.contains("hash") && !shell.out.contains("h:big"), "\(shell.out) \(shell.err)")
            // archive timeline --base lists every key of the base, each with its expiry.
            let timeline = try RedkeepBinaryTests.redkeep(["-c", "archive timeline \(archive) --base 1"])
            #expect(timeline.status == 0, "\(timeline.err)")
            #expect(timeline.out.contains("keys_in_base") && timeline.out.contains("60") && timeline.out.contains("x:big")
                    && timeline.out.contains("stream") && timeline.out.contains("never") && !timeline.out.contains("incr:"), "\(timeline.out)")
            let unknown = try RedkeepBinaryTests.redkeep(["-c", "archive timeline \(archive) --base 7"])
            #expect(unknown.status != 0 && unknown.err.contains("no generation 7"), "\(unknown.err)")
            await o.close()
            await t.close()
            await c.close()
        }
    }

    /// Keys with short TTLs written before the target, restored after they expired: gone
    /// and counted by default; present with the TTL they had at the target with the option.
    @Test func ttlsAsOfTheTargetBringBackKeysExpiredSince() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes")]))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            let expiresAt = Int64(Date().timeIntervalSince1970 * 1000) + 6000
            _ = try await c.pipeline((0..<10).map { ["SET", .string("short:\($0)"), "v", "PXAT", .string(String(expiresAt))] })
            _ = try await c.pipeline((0..<10).map { ["SET", .string("keep:\($0)"), "v"] })
            _ = try await c.send(["SET", "gone", "v", "PXAT", .string(String(Int64(Date().timeIntervalSince1970 * 1000) + 1500))])
            try await Self.rewrite(c)
            // After the base: expiries the incr stream sets (as SET PXAT and PEXPIREAT in the AOF).
            _ = try await c.send(["SET", "incr:short", "v", "PX", .string(String(expiresAt - Int64(Date().timeIntervalSince1970 * 1000)))])
            _ = try await c.send(["SET", "incr:expireat", "v"])
            _ = try await c.send(["EXPIREAT", "incr:expireat", .string(String(expiresAt / 1000))])
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await c.send(["SET", "incr:after", "v"])
            let archive = try await Self.archive(source, in: lab)
            let second = currentSecond()
            let targetMs = (second + 1) * 1000
            #expect(targetMs < expiresAt, "the short keys must be alive at the target")
            // Until the short keys have expired everywhere.
            while Int64(Date().timeIntervalSince1970 * 1000) <= expiresAt + 100 { try await Task.sleep(for: .milliseconds(100)) }

            let (p, today) = try await Self.restore(archive, second: second, into: "plain", ttlAsOfTarget: false, in: lab)
            #expect(try await p.send(["EXISTS", "short:0"]).int == 0)
            #expect(try await p.send(["EXISTS", "incr:short", "incr:expireat"]).int == 0)
            #expect(try await p.send(["DBSIZE"]).int == 11)
            #expect(today.outcome.baseKeysExpiredSinceTarget == 10 && today.outcome.baseKeysTTLShifted == 0)
            #expect(today.outcome.baseKeysExpiredBeforeTarget == 1, "the key that expired before the target")
            #expect(today.outcome.incrExpiriesPassedSinceTarget == 2, "incr:short and incr:expireat, deleted on replay")

            let (f, asOf) = try await Self.restore(archive, second: second, into: "forensic", ttlAsOfTarget: true, in: lab)
            #expect(asOf.outcome.baseKeysTTLShifted == 10 && asOf.outcome.baseKeysExpiredSinceTarget == 0)
            #expect(try await f.send(["DBSIZE"]).int == 23)
            let expectedTTL = expiresAt - targetMs
            #expect(asOf.outcome.incrExpiriesShifted == 2 && asOf.outcome.incrExpiriesPassedSinceTarget == 0)
            let incrTTL = try #require(try await f.send(["PTTL", "incr:short"]).int)
            // SET PX is archived as SET PXAT: an absolute time, moved like the base's.
            #expect(abs(Int64(incrTTL) - expectedTTL) <= 1000, "incr:short has PTTL \(incrTTL), it had about \(expectedTTL) at the target")
            let secondsTTL = try #require(try await f.send(["PTTL", "incr:expireat"]).int)
            #expect(secondsTTL > 0 && Int64(secondsTTL) <= expectedTTL + 1000, "incr:expireat has PTTL \(secondsTTL)")
            for k in 0..<10 {
                let ttl = try #require(try await f.send(["PTTL", .string("short:\(k)")]).int)
                #expect(abs(Int64(ttl) - expectedTTL) <= 1000, "short:\(k) has PTTL \(ttl), it had \(expectedTTL) at the target")
            }
            #expect(try await f.send(["PTTL", "keep:0"]).int == -1)
            await f.close()
            await p.close()
            await c.close()
        }
    }
}
