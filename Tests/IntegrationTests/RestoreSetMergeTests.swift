import Foundation
import NIOCore
import Operations
import RESP
import RedisClient
import Testing

/// Runs of plain SETs in the incr stream go to the target as MSETs: the target must end
/// exactly as with the SETs one by one (and as the source), an error reply to an MSET
/// counts every SET it carried, and a target without MSET gets the SETs as archived.
@Suite(.serialized) struct RestoreSetMergeTests {
    /// Replays all of `archive` into a new server of the lab, with SETs merged or not.
    static func replay(_ archive: String, into name: String, merge: Bool, window: Int = 50_000, in lab: Lab,
                       options: LocalServerOptions = RDBRoundTripTests.options()) async throws -> (RedisConnection, ReplayOutcome) {
        let server = try await lab.start(name, options)
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest)
        var replay = ConnectionReplay(plan: plan, target: c)
        replay.lab = lab
        replay.mergeSets = merge
        replay.window = window
        return (c, try await replay.run())
    }

    static func source(in lab: Lab) async throws -> (LocalServer, RedisConnection) {
        var options = RDBRoundTripTests.options([("aof-disable-auto-gc", "yes")])
        options.appendOnly = true
        options.aofTimestamps = true
        let source = try await lab.start("source", options)
        return (source, try await RedisConnection.connect(source.connectionConfiguration))
    }

    @Test func runsOfSetsAsMSETsLeaveTheDataSetOfTheSETsOneByOne() async throws {
        try await withLab { lab in
            let (source, c) = try await Self.source(in: lab)
            // Runs longer than one MSET holds, a key set twice in a run, lower case.
            _ = try await c.pipeline((0..<2_500).map { ["SET", .string("k:\($0)"), .string("v\($0)")] })
            _ = try await c.pipeline([["set", "k:7", "again"], ["SET", "k:7", "last"], ["set", "lower", "x"]])
            // SET without options clears a TTL, as MSET does; SET replaces another type.
            _ = try await c.pipeline([["SET", "ttl:1", "a", "EX", "1000"], ["SET", "ttl:1", "b"], ["SET", "k:8", "c"],
                                      ["RPUSH", "list:1", "a", "b"], ["SET", "k:9", "d"], ["SET", "list:1", "now a string"]])
            // Commands between SETs that read or change what the SETs wrote.
            _ = try await c.pipeline([["SET", "app", "a"], ["APPEND", "app", "-tail"], ["SET", "app2", "x"], ["DEL", "k:1"],
                                      ["SET", "k:1", "back"], ["INCR", "k:1:n"], ["SET", "k:1:n", "7"], ["INCRBY", "k:1:n", "3"]])
            // A transaction (never merged), another database, values over one MSET's size.
            _ = try await c.pipeline([["MULTI"], ["SET", "t:1", "a"], ["SET", "t:2", "b"], ["EXEC"]])
            _ = try await c.pipeline([["SELECT", "3"], ["SET", "db3:a", "1"], ["SET", "db3:b", "2"], ["SELECT", "0"]])
            let big = String(repeating: "x", count: 100_000)
            _ = try await c.pipeline([["SET", "big:1", .string(big)], ["SET", "big:2", .string(big)], ["SET", "small", "s"]])
            let archive = try await RestoreRDBBaseTests.archive(source, in: lab)
            let expected = try await RDBRoundTripTests.digest(c)

            for window in [10, 400, 50_000] {  // batches of 2, 100 and 12,500 commands
                let (m, merged) = try await Self.replay(archive, into: "merged-\(window)", merge: true, window: window, in: lab)
                let (s, single) = try await Self.replay(archive, into: "single-\(window)", merge: false, window: window, in: lab)
                #expect(try await RDBRoundTripTests.digest(m) == expected, "merged, window \(window)")
                #expect(try await RDBRoundTripTests.digest(s) == expected, "one by one, window \(window)")
                #expect(merged.commands == single.commands && merged.errorReplies == 0 && single.errorReplies == 0)
                #expect(merged.setsSentAsMSET > 2_000, "\(merged.setsSentAsMSET) SETs went as MSETs")
                #expect(single.setsSentAsMSET == 0)
                #expect(try await m.send(["TTL", "ttl:1"]).int == -1)
                #expect(try await m.send(["GET", "k:7"]).string == "last")
                #expect(try await m.send(["GET", "app"]).string == "a-tail")
                await m.close()
                await s.close()
            }
            // The shell's report says how many SETs went as MSETs.
            let other = try await lab.start("other")
            let run = try RedkeepBinaryTests.redkeep([try RedkeepBinaryTests.temporaryFile("merge.rk", """
                connect other 127.0.0.1:\(other.port)
                replay-until now --archive \(archive) --into other
                """)])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("sets_sent_as_mset:"), "\(run.out)")
            await c.close()
        }
    }

    @Test func anMSETRefusedCountsEverySETItCarried() async throws {
        try await withLab { lab in
            let (source, c) = try await Self.source(in: lab)
            let value = String(repeating: "v", count: 200)
            _ = try await c.pipeline((0..<6_000).map { ["SET", .string("k:\($0)"), .string(value)] })
            let archive = try await RestoreRDBBaseTests.archive(source, in: lab)
            // A target with room for part of it: the rest is refused (OOM), MSET by MSET.
            let target = try await lab.start("small")
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            let used = try #require(try await t.info("memory").int("used_memory"))
            _ = try await t.send(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
            _ = try await t.send(["CONFIG", "SET", "maxmemory", .string(String(used + 400_000))])
            let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest)
            var replay = ConnectionReplay(plan: plan, target: t)
            replay.lab = lab
            let outcome = try await replay.run()
            let held = try #require(try await t.send(["DBSIZE"]).int)
            #expect(held > 0 && held < 6_000, "the target took \(held) keys")
            #expect(outcome.setsSentAsMSET > 0)
            // Every key is set once: what is missing is what was refused, counted in SETs
            // (the stream's other command is the SELECT Redis writes first).
            #expect(outcome.commands == 6_001)
            #expect(outcome.errorReplies == 6_000 - held, "\(outcome.errorReplies) refused, \(held) held")
            let first = try #require(outcome.firstError)
            #expect(first.contains("OOM") && first.contains("an MSET carrying the"), "\(first)")
            await t.close()
            await c.close()
        }
    }

    @Test func aClusterTargetGetsTheSETsAsArchived() async throws {
        try await withLab { lab in
            let (source, c) = try await Self.source(in: lab)
            _ = try await c.pipeline((0..<300).map { ["SET", .string("k:\($0)"), "v"] })
            let archive = try await RestoreRDBBaseTests.archive(source, in: lab)
            // One node holding every slot: SETs of any key work, an MSET across slots would not.
            let node = try await lab.start("node", RDBRoundTripTests.options([("cluster-enabled", "yes")]))
            let t = try await RedisConnection.connect(node.connectionConfiguration)
            _ = try await t.send(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            var up = false
            for _ in 0..<100 {
                up = (try await t.send(["CLUSTER", "INFO"]).string ?? "").contains("cluster_state:ok")
                if up { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            try #require(up, "the one-node cluster did not come up within 10 s")
            let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .latest)
            var replay = ConnectionReplay(plan: plan, target: t)
            replay.lab = lab
            let outcome = try await replay.run()
            #expect(outcome.setsSentAsMSET == 0 && outcome.errorReplies == 0, "\(outcome.firstError ?? "")")
            #expect(outcome.notes.contains { $0.contains("cluster mode") }, "\(outcome.notes)")
            #expect(try await RDBRoundTripTests.digest(t) == (try await RDBRoundTripTests.digest(c)))
            await t.close()
            await c.close()
        }
    }

    @Test func aTargetWithoutMSETGetsTheSETsAsArchived() async throws {
        try await withLab { lab in
            let (source, c) = try await Self.source(in: lab)
            _ = try await c.pipeline((0..<300).map { ["SET", .string("k:\($0)"), "v"] })
            let archive = try await RestoreRDBBaseTests.archive(source, in: lab)
            let options = RDBRoundTripTests.options([("rename-command MSET", "")])
            let (t, outcome) = try await Self.replay(archive, into: "no-mset", merge: true, in: lab, options: options)
            #expect(try await RDBRoundTripTests.digest(t) == (try await RDBRoundTripTests.digest(c)))
            #expect(outcome.setsSentAsMSET == 0 && outcome.errorReplies == 0)
            #expect(outcome.notes.contains { $0.contains("does not offer MSET") }, "\(outcome.notes)")
            await t.close()
            await c.close()
        }
    }
}
