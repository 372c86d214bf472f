import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// `rewrite` against real servers: the manifest before and after, a rewrite scheduled
/// behind a BGSAVE, AOF off, a rewrite that fails, and a timeout.
@Suite(.serialized) struct PersistenceRewriteTests {
    @Test func rewriteReportsTheManifestBeforeAndAfter() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(appendOnly: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            // Overwriting the same keys: the rewrite makes the AOF much smaller.
            for _ in 0..<5 { try await c.fill(500) }
            let report = try await AOFRewrite.run(c, timeout: .seconds(60))
            let before = try #require(report.filesBefore)
            let after = try #require(report.filesAfter)
            let baseBefore = try #require(before.first { $0.type == "b" })
            let baseAfter = try #require(after.first { $0.type == "b" })
            #expect(baseAfter.seq == baseBefore.seq + 1)
            #expect(after.filter { $0.type == "i" }.map(\.seq) != before.filter { $0.type == "i" }.map(\.seq))
            #expect(report.sizeBefore > report.sizeAfter && report.sizeAfter > 0)
            #expect(!report.wasScheduled)
            // What the report says is what is on disk.
            let manifest = try String(contentsOfFile: server.directory + "/appendonlydir/appendonly.aof.manifest", encoding: .utf8)
            #expect(manifest.contains(baseAfter.name))
            await c.close()
        }
    }

    @Test func refusedWhenAOFIsOff() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            do {
                _ = try await AOFRewrite.run(c)
                Issue.record("a rewrite ran with appendonly no")
            } catch let error as PersistenceError {
                #expect(error.kind == .refused)
                #expect(error.message.contains("AOF is off (appendonly no)") && error.message.contains("127.0.0.1:\(server.port)"))
            }
            await c.close()
        }
    }

    @Test func rewriteAskedForDuringABgsaveIsScheduledAndWaitedFor() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(appendOnly: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(200)
            try await c.configSet("rdb-key-save-delay", "3000")
            _ = try await c.send(["BGSAVE"])
            let report = try await AOFRewrite.run(c, timeout: .seconds(60))
            #expect(report.wasScheduled)
            let info = try await c.info("persistence")
            #expect(info.int("aof_rewrite_scheduled") == 0 && info.int("aof_rewrite_in_progress") == 0)
            #expect(info.string("aof_last_bgrewrite_status") == "ok")
            await c.close()
        }
    }

    @Test func failingRewritesAreReported() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(appendOnly: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(20)
            // The rewrite's child writes temp-rewriteaof-bg-<pid>.aof in the server's folder:
            // immutable, the child fails and the server reports it after the fact.
            try await PersistenceFaults.withImmutable(server.directory) {
                do {
                    _ = try await AOFRewrite.run(c, timeout: .seconds(30))
                    Issue.record("a rewrite into an immutable folder succeeded")
                } catch let error as PersistenceError {
                    #expect(error.kind == .failed)
                    #expect(error.message.contains("aof_last_bgrewrite_status is err"), "\(error.message)")
                }
            }
            // The AOF folder immutable: the server cannot open a new incr file and refuses at once.
            try await PersistenceFaults.withImmutable(server.directory + "/appendonlydir") {
                do {
                    _ = try await AOFRewrite.run(c, timeout: .seconds(30))
                    Issue.record("a rewrite with an immutable AOF folder succeeded")
                } catch let error as PersistenceError {
                    #expect(error.kind == .failed)
                    #expect(error.message.contains("BGREWRITEAOF on 127.0.0.1:\(server.port) failed at once"), "\(error.message)")
                }
            }
            // Writable again: it works.
            _ = try await AOFRewrite.run(c, timeout: .seconds(30))
            await c.close()
        }
    }

    @Test func timeoutIsClear() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(appendOnly: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(100)
            try await c.configSet("rdb-key-save-delay", "100000")
            do {
                _ = try await AOFRewrite.run(c, timeout: .seconds(1))
                Issue.record("a 10 s rewrite finished within 1 s")
            } catch let error as PersistenceError {
                #expect(error.kind == .timeout)
                #expect(error.message.contains("the AOF rewrite on 127.0.0.1:\(server.port) did not finish within 1s"))
            }
            // A shutdown would wait for a slow final save.
            try await c.configSet("rdb-key-save-delay", "0")
            await c.close()
        }
    }
}
