import AOF
import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Point-in-time restore against real servers: a writer's known writes (with rewrites, a
/// transaction and a FLUSHALL) are archived as they happen, and restores to each second
/// must give exactly the contents the source had at the end of that second.
@Suite(.serialized) struct RestoreTests {
    static func restore(_ archive: String, _ target: ReplayTarget, into lab: Lab, _ connection: RedisConnection) async throws -> ReplayOutcome {
        let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: target)
        var replay = ConnectionReplay(plan: plan, target: connection)
        replay.flush = true
        replay.lab = lab
        replay.window = 7  // small, so batches end mid-stream and transactions meet batch limits
        return try await replay.run()
    }

    @Test func restoresEachSecondExactlyWithTimestamps() async throws {
        try await withLab { lab in
            let s = try await RestoreScenario.run(in: lab, name: "source", timestamps: true)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            // The test means something only if the seconds differ and rewrites made new bases.
            #expect(Set(s.seconds.map { s.expected[$0]! }).count == s.seconds.count)
            let generations = try ArchiveIndex.read(s.archive).generations
            #expect(generations.count >= 3 && generations.allSatisfy { $0.format == .rdb })
            var usedGenerations: Set<Int> = []
            for second in s.seconds {
                let outcome = try await Self.restore(s.archive, .time(second: second, inclusive: true), into: lab, c)
                usedGenerations.insert(outcome.generation)
                let got = try await restoreContents(c)
                #expect(got == s.expected[second]!, "restore to \(second) (rewrite in \(s.rewriteSecond), flush in \(s.flushSecond))")
                #expect(outcome.rolledBack.isEmpty && outcome.truncated == nil && outcome.errorReplies == 0)
                if let last = outcome.lastTimestamp { #expect(last <= second) }
            }
            #expect(usedGenerations.count >= 3)
            // Exclusive: everything stamped before the second, i.e. the previous second's end.
            let exclusive = s.seconds[3]
            _ = try await Self.restore(s.archive, .time(second: exclusive, inclusive: false), into: lab, c)
            #expect(try await restoreContents(c) == s.expected[s.seconds[2]]!)

            // Just before the FLUSHALL.
            let outcome = try await Self.restore(s.archive, .beforeFirst(commands: ["FLUSHALL", "FLUSHDB"], notBefore: s.seconds[0]), into: lab, c)
            #expect(try await restoreContents(c) == s.beforeFlush)
            #expect(outcome.stopReason.contains("FLUSHALL"))

            // Outside the coverage: said, with the range.
            let index = try ArchiveIndex.read(s.archive)
            #expect(throws: RestoreError.self) { _ = try RestorePlan.make(index, target: .time(second: s.seconds[0] - 3600, inclusive: true)) }
            do {
                _ = try RestorePlan.make(index, target: .time(second: s.seconds.last! + 3600, inclusive: true))
                Issue.record("a time after the coverage was accepted")
            } catch {
                #expect("\(error)".contains("the archive covers"))
            }
            await c.close()
        }
    }

    @Test func restoresWithinTheSamplesWithoutTimestamps() async throws {
        try await withLab { lab in
            let s = try await RestoreScenario.run(in: lab, name: "source", timestamps: false, steps: 5)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            for second in s.seconds {
                let plan = try RestorePlan.make(try ArchiveIndex.read(s.archive), target: .time(second: second, inclusive: true))
                #expect(!plan.usesTimestamps)
                // The samples are taken once a second: the bracket around the target is about that wide.
                let precision = try #require(plan.precision)
                #expect(precision > 0 && precision < 3)
                _ = try await Self.restore(s.archive, .time(second: second, inclusive: true), into: lab, c)
                #expect(try await restoreContents(c) == s.expected[second]!, "restore to \(second) without #TS")
            }
            await c.close()
        }
    }

    @Test func aTransactionCutByTheTargetIsLeftOutAndReported() async throws {
        try await withLab { lab in
            let s = try await RestoreScenario.run(in: lab, name: "source", timestamps: true, steps: 4)
            let index = try ArchiveIndex.read(s.archive)
            // The MULTI written in the transaction's second, found with the archive's log.
            var multi: ArchiveLog.Line?
            try ArchiveLog.read(index, filter: .init(from: Double(s.transactionSecond), to: Double(s.transactionSecond), command: "MULTI")) { multi = $0 }
            let at = try #require(multi)
            let gen = try #require(index.generations.last { $0.firstStream <= at.stream })
            // Cut inside the block: after MULTI and its first queued command (INCRBY), before EXEC.
            let cut = at.offset + "*1\r\n$5\r\nMULTI\r\n".utf8.count + "*3\r\n$6\r\nINCRBY\r\n$7\r\ncounter\r\n$3\r\n100\r\n".utf8.count + 1
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            let outcome = try await Self.restore(s.archive, .offset(generation: gen.gen, stream: at.stream, bytes: cut), into: lab, c)
            #expect(try await restoreContents(c) == s.beforeTransaction)
            #expect(outcome.rolledBack.count == 1)
            #expect(outcome.rolledBack.first?.at.stream == at.stream && outcome.rolledBack.first?.at.offset == at.offset)
            #expect(outcome.rolledBack.first?.commands == 1)
            // The connection is not left inside MULTI: a plain command still runs.
            #expect(try await c.send(["PING"]).string == "PONG")
            await c.close()
        }
    }

    @Test func writtenAOFLoadsNativelyAndEqualsTheReplay() async throws {
        try await withLab { lab in
            let s = try await RestoreScenario.run(in: lab, name: "source", timestamps: true, steps: 4)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            for second in [s.seconds[1], s.seconds[2], s.seconds.last!] {
                let plan = try RestorePlan.make(try ArchiveIndex.read(s.archive), target: .time(second: second, inclusive: true))
                let folder = try restoreTemporaryFolder("aof", in: lab) + "/server"
                let outcome = try AOFFolderWriter(plan: plan, folder: folder + "/appendonlydir").run()
                #expect(outcome.commands > 0)
                let manifest = try AOFManifest.load(folder + "/appendonlydir/appendonly.aof.manifest")
                #expect(manifest.base != nil && manifest.incrs.count == 1)
                let loaded = try await lab.start("loaded-\(second)", LocalServerOptions(appendOnly: true, directory: folder))
                let l = try await RedisConnection.connect(loaded.connectionConfiguration)
                let native = try await restoreContents(l)
                _ = try await Self.restore(s.archive, .time(second: second, inclusive: true), into: lab, c)
                #expect(native == (try await restoreContents(c)))
                #expect(native == s.expected[second]!)
                await l.close()
                try await lab.stop("loaded-\(second)")
            }
            await c.close()
        }
    }
}
