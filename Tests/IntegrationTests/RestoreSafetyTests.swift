import Foundation
import Operations
import RESP
import RedisClient
import Synchronization
import Testing

/// A restore never hurts the wrong server, nor the right one early: the archive's own
/// source is refused, every object is checked before the first write, and Ctrl-C works
/// while the base loads.
@Suite(.serialized) struct RestoreSafetyTests {
    /// A source server with `keys` keys in an RDB base (after a rewrite) and a few writes
    /// in its incr file, archived with a descriptor that names it as the collector does.
    /// `value` gives each base key's value ("v" unless given).
    static func archive(_ lab: Lab, keys: Int, value: (Int) -> RESPArgument = { _ in "v" }) async throws -> (source: LocalServer, archive: String) {
        let source = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes")]))
        let c = try await RedisConnection.connect(source.connectionConfiguration)
        let server = try await c.info("server"), replication = try await c.info("replication")
        let archive = try restoreTemporaryFolder("archive", in: lab)
        let descriptor = ArchiveDescriptor(created: Date().timeIntervalSince1970, source: "127.0.0.1:\(source.port)",
                                           runId: server.string("run_id"), replicationId: replication.string("master_replid"))
        let builder = try RestoreArchiveBuilder(root: archive, serverDirectory: source.directory, descriptor: descriptor)
        builder.chunkBytes = 16 * 1024
        for batch in stride(from: 0, to: keys, by: 1000) {
            _ = try await c.pipeline((batch..<min(keys, batch + 1000)).map { ["SET", .string("base:\($0)"), value($0)] })
        }
        _ = try await c.send(["BGREWRITEAOF"])
        for _ in 0..<200 {
            let info = try await c.info("persistence")
            if info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await c.pipeline((0..<2000).map { ["SET", .string("incr:\($0)"), "v"] })
        try await Task.sleep(for: .milliseconds(1100))  // appendfsync everysec
        try builder.collect()
        await c.close()
        return (source, archive)
    }

    @Test func theArchivesOwnSourceAndItsReplicasAreRefused() async throws {
        try await withLab { lab in
            let (source, archive) = try await Self.archive(lab, keys: 100)
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            let before = try await c.send(["DBSIZE"]).int
            do throws(RestoreError) {
                _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                          destination: .connection(c, name: "prod", scratch: lab), options: RestoreOptions(flush: true))
                Issue.record("a restore into the archive's own source was accepted")
            } catch {
                #expect(error.kind == .refusedTarget)
                #expect(error.message.contains("prod") && error.message.contains("127.0.0.1:\(source.port)") && error.message.contains("run_id"))
            }
            #expect(try await c.send(["DBSIZE"]).int == before, "the source was touched")

            // A replica of the source: same replication id, and its master is the source.
            let replica = try await lab.start("replica", LocalServerOptions(replicaOf: "source"))
            let r = try await RedisConnection.connect(replica.connectionConfiguration)
            do throws(RestoreError) {
                _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                          destination: .connection(r, name: "replica", scratch: lab), options: RestoreOptions(flush: true))
                Issue.record("a restore into a replica of the source was accepted")
            } catch {
                #expect(error.kind == .refusedTarget && error.message.contains("replica of the source"))
            }

            // Through the shell: exit code 3, both named, the option that overrides it said.
            let run = try RedkeepBinaryTests.redkeep([try RedkeepBinaryTests.temporaryFile("source.rk", """
                connect prod 127.0.0.1:\(source.port)
                replay-until now --archive \(archive) --into prod --flush
                """)])
            #expect(run.status == 3 && run.err.contains("refusing to restore into prod") && run.err.contains("--overwrite-source"), "\(run.err)")
            #expect(try await c.send(["DBSIZE"]).int == before, "the source was touched")
            await c.close()
            await r.close()
        }
    }

    @Test func aDamagedChunkIsFoundBeforeTheTargetIsFlushed() async throws {
        try await withLab { lab in
            let (_, archive) = try await Self.archive(lab, keys: 100)
            let index = try ArchiveIndex.read(archive)
            let chunk = try #require(index.chunks.last)
            let path = index.store.describe(chunk.path)
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            try handle.seek(toOffset: UInt64(chunk.length - 3))
            handle.write(Data("X".utf8))
            try handle.close()

            let target = try await lab.start("target")
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            _ = try await t.pipeline((0..<50).map { ["SET", .string("precious:\($0)"), "keep me"] })
            do throws(RestoreError) {
                _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                          destination: .connection(t, name: "target", scratch: lab), options: RestoreOptions(flush: true))
                Issue.record("a damaged archive was restored")
            } catch {
                #expect(error.kind == .damagedArchive && error.message.contains(path) && error.message.contains("nothing was written"))
                #expect(error.progress == nil, "nothing was applied, so nothing may be claimed")
            }
            #expect(try await t.send(["DBSIZE"]).int == 50, "the target was emptied before the archive was checked")
            await t.close()
        }
    }

    @Test func cancellingWhileTheRDBBaseLoadsStopsAndSaysSo() async throws {
        try await withLab { lab in
            let (_, archive) = try await Self.archive(lab, keys: 30_000)
            let target = try await lab.start("target")
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            let sawBase = Atomic<Bool>(false)
            let restore = Task {
                try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                      destination: .connection(t, name: "target", scratch: lab), options: RestoreOptions(window: 1000),
                                      progress: { if $0.phase == .base && $0.done > 0 { sawBase.store(true, ordering: .relaxed) } })
            }
            while !sawBase.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            restore.cancel()
            let report = try await restore.value
            #expect(report.outcome.interrupted)
            #expect(report.outcome.commands == 0 && report.outcome.stoppedAt == nil)
            #expect(report.outcome.stopReason.contains("while loading the base"))
            let keys = try await t.send(["DBSIZE"]).int ?? -1
            #expect(keys > 0 && keys < 30_000, "stopped part-way through the base: \(keys) keys")
            #expect(report.outcome.baseKeys == keys, "the report counts the keys the target holds")
            await t.close()
        }
    }
}
