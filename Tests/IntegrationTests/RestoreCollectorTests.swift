import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The proof end to end: the real collector (`chunk`) archives a server while a writer
/// applies known writes over several seconds with rewrites, a transaction and a FLUSHALL;
/// restores to each second, just before the FLUSHALL and to a mark equal the source's
/// contents at that point, and the written AOF folder loads natively to the same contents.
@Suite(.serialized) struct RestoreCollectorTests {
    @Test func restoresWhatTheCollectorArchived() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            let archive = try restoreTemporaryFolder("collected", in: lab)
            let options = CollectorOptions(archive: archive, chunkSize: 2048, pause: .zero, interval: .milliseconds(100), rate: nil)
            let collector = try await Collector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }
            try await Task.sleep(for: .milliseconds(500))
            let s = try await RestoreScenario.write(on: server, archive: archive, steps: 7) {}
            let mark = try await collector.mark("after-writes")
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await source.send(["SET", "after-mark", "1"])
            let atMark = try await restoreContents(source)
            try await Task.sleep(for: .milliseconds(500))
            collector.requestStop()
            await running.value
            #expect(collector.status().errors == 0, "\(collector.status().lastError ?? "")")

            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.count >= 3)
            #expect(try ArchiveVerifyResult.run(index).isSound)
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            func restore(_ t: ReplayTarget) async throws -> ReplayOutcome {
                var replay = ConnectionReplay(plan: try RestorePlan.make(try ArchiveIndex.read(archive), target: t), target: c)
                replay.flush = true
                replay.lab = lab
                return try await replay.run()
            }
            for second in s.seconds {
                let outcome = try await restore(.time(second: second, inclusive: true))
                #expect(try await restoreContents(c) == s.expected[second]!, "restore to \(second) (rewrite in \(s.rewriteSecond), flush in \(s.flushSecond))")
                #expect(outcome.rolledBack.isEmpty && outcome.errorReplies == 0)
            }
            _ = try await restore(.beforeFirst(commands: ["FLUSHALL"], notBefore: s.seconds[0]))
            #expect(try await restoreContents(c) == s.beforeFlush)
            // The mark: everything before its key was written (the key itself is left out).
            _ = try await restore(.mark(mark.name))
            var withoutMark = atMark
            withoutMark["0:after-mark"] = nil
            withoutMark["0:" + mark.key] = nil
            #expect(try await restoreContents(c) == withoutMark)

            let second = s.seconds[4]
            let folder = try restoreTemporaryFolder("collected-aof", in: lab) + "/server"
            _ = try AOFFolderWriter(plan: try RestorePlan.make(index, target: .time(second: second, inclusive: true)), folder: folder + "/appendonlydir").run()
            let loaded = try await lab.start("loaded", LocalServerOptions(appendOnly: true, directory: folder))
            let l = try await RedisConnection.connect(loaded.connectionConfiguration)
            #expect(try await restoreContents(l) == s.expected[second]!)
            await l.close()
            await c.close()
            await source.close()
        }
    }
}

/// The same without #TS annotations: the collector's size samples are the time map.
@Suite(.serialized) struct RestoreCollectorSamplesTests {
    @Test func restoresWithinTheSamplingPrecision() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(appendOnly: true, config: [("appendfsync", "always")]))
            let archive = try restoreTemporaryFolder("collected-samples", in: lab)
            let options = CollectorOptions(archive: archive, chunkSize: 2048, pause: .zero, interval: .milliseconds(100), rate: nil)
            let collector = try await Collector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }
            try await Task.sleep(for: .milliseconds(500))
            let s = try await RestoreScenario.write(on: server, archive: archive, steps: 5) {}
            try await Task.sleep(for: .milliseconds(500))
            collector.requestStop()
            await running.value

            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            var exact = 0
            for (i, second) in s.seconds.enumerated() {
                let plan = try RestorePlan.make(try ArchiveIndex.read(archive), target: .time(second: second, inclusive: true))
                #expect(!plan.usesTimestamps)
                let precision = try #require(plan.precision)
                let sampled = try #require(plan.sampleTime)
                var replay = ConnectionReplay(plan: plan, target: c)
                replay.flush = true
                replay.lab = lab
                _ = try await replay.run()
                let got = try await restoreContents(c)
                // The result is the source's state when the sample was taken: exactly the
                // second's contents when it came after that second's writes ended, the
                // previous second's when it came before they began.
                if sampled >= s.writesEnded[second]! {
                    #expect(got == s.expected[second]!, "restore to \(second), sample at \(sampled)")
                    exact += 1
                } else if i > 0, sampled < s.writesBegan[second]! {
                    #expect(got == s.expected[s.seconds[i - 1]]!, "restore to \(second), sample at \(sampled)")
                }
                #expect(sampled <= Double(second) + 1 && precision < 2)
            }
            #expect(exact > 0)
            await c.close()
        }
    }
}
