import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// `save` against real servers: BGSAVE and SAVE followed to the end, a BGSAVE already
/// running, a timeout, a failing save, copies (local and over the replication protocol)
/// that load into a fresh server, a full disk and a dump that is not readable here.
@Suite(.serialized) struct PersistenceSaveTests {
    /// Starts a server whose only data is the copy at `rdb`, and returns its DBSIZE.
    static func keysIn(_ rdb: String, lab: Lab, name: String) async throws -> Int {
        let folder = try temporaryFolder("load")
        try FileManager.default.copyItem(atPath: rdb, toPath: folder + "/dump.rdb")
        let server = try await lab.start(name, LocalServerOptions(directory: folder))
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        defer { Task { await c.close() } }
        return try await c.dbsize()
    }

    @Test func bgsaveFollowsToTheEndAndCopiesWithChecksum() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(1000)
            let target = try temporaryFolder("copies")
            let before = try await c.info("persistence").int("rdb_last_save_time")!
            let report = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "m"))
            #expect(report.kind == "BGSAVE")
            #expect(report.changesSaved >= 1000)
            #expect(report.lastSaveTime > before)
            #expect(report.forkMicroseconds != nil && report.forkMicroseconds! > 0)
            #expect(!report.waitedForRunningSave)
            let size = try FileManager.default.attributesOfItem(atPath: server.directory + "/dump.rdb")[.size] as? Int
            #expect(report.dumpSize == size)

            let copy = try #require(report.copy)
            #expect(copy.verified && copy.source == server.directory + "/dump.rdb")
            #expect(URL(fileURLWithPath: copy.path).lastPathComponent.hasPrefix("m-") && copy.path.hasSuffix("Z.rdb"))
            // Nothing but the copy and its checksum: no temporary names left.
            #expect(folderContents(target).count == 2)
            // sha256sum, the reference tool, agrees with the .sha256 file.
            let listed = try String(contentsOfFile: copy.checksumPath, encoding: .utf8)
            let digest = try await ExternalCommand.run("/usr/bin/sha256sum", [copy.path])
            #expect(digest.output.hasPrefix(copy.sha256) && listed.hasPrefix(copy.sha256))
            #expect(try await Self.keysIn(copy.path, lab: lab, name: "fromcopy") == 1000)
            await c.close()
        }
    }

    @Test func blockingSaveUsesSAVE() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(50)
            let forks = try await c.info("stats").int("total_forks")!
            let report = try await Snapshot.run(c, Snapshot.Options(blocking: true))
            #expect(report.kind == "SAVE" && report.forkMicroseconds == nil)
            #expect(report.changesSaved >= 50)
            // SAVE does not fork.
            #expect(try await c.info("stats").int("total_forks") == forks)
            #expect(try await c.info("persistence").int("rdb_changes_since_last_save") == 0)
            await c.close()
        }
    }

    @Test func waitsForABgsaveAlreadyRunningAndSaysSo() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(200)
            // About 0.6 s per save: 200 keys, 3 ms each.
            try await c.configSet("rdb-key-save-delay", "3000")
            _ = try await c.send(["BGSAVE"])
            #expect(try await c.info("persistence").int("rdb_bgsave_in_progress") == 1)
            let report = try await Snapshot.run(c, Snapshot.Options(timeout: .seconds(60)))
            #expect(report.waitedForRunningSave)
            #expect(report.kind == "BGSAVE")
            #expect(try await c.info("persistence").string("rdb_last_bgsave_status") == "ok")
            await c.close()
        }
    }

    @Test func timeoutIsClear() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(100)
            try await c.configSet("rdb-key-save-delay", "100000")  // 10 s in all
            let target = try temporaryFolder("copies")
            do {
                _ = try await Snapshot.run(c, Snapshot.Options(timeout: .seconds(1), copyTo: target))
                Issue.record("a 10 s save finished within a 1 s timeout")
            } catch let error as PersistenceError {
                #expect(error.kind == .timeout)
                #expect(error.message.contains("BGSAVE on 127.0.0.1:\(server.port) did not finish within 1s"))
            }
            #expect(folderContents(target).isEmpty)
            // A shutdown would wait for a slow final save.
            try await c.configSet("rdb-key-save-delay", "0")
            await c.close()
        }
    }

    @Test func failedBgsaveIsReported() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(10)
            // The save's child cannot create its temp-<pid>.rdb in an immutable folder.
            try await PersistenceFaults.withImmutable(server.directory) {
                do {
                    _ = try await Snapshot.run(c, Snapshot.Options(timeout: .seconds(30)))
                    Issue.record("a save into an immutable folder succeeded")
                } catch let error as PersistenceError {
                    #expect(error.kind == .failed)
                    #expect(error.message.contains("rdb_last_bgsave_status is err"), "\(error.message)")
                }
            }
            await c.close()
        }
    }

    @Test func copyOverTheReplicationProtocolBothFormats() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(700)
            let target = try temporaryFolder("copies")
            // Redis 7 defaults to diskless sync: the `$EOF:<mark>` format.
            let diskless = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "eof", overReplication: true))
            let first = try #require(diskless.copy)
            #expect(first.source == "replication from 127.0.0.1:\(server.port)" && first.verified)
            #expect(try await Self.keysIn(first.path, lab: lab, name: "eof") == 700)
            // Disk-based sync: `$<length>`.
            try await c.configSet("repl-diskless-sync", "no")
            try await c.fill(50, prefix: "more")
            let disk = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "len", overReplication: true))
            let second = try #require(disk.copy)
            #expect(try await Self.keysIn(second.path, lab: lab, name: "len") == 750)
            #expect(folderContents(target).count == 4)
            await c.close()
        }
    }

    @Test func replicationCopyAuthenticatesAndWorksOverAUnixSocket() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            // Set after start: the Lab waits for PING without a password.
            let open = try await RedisConnection.connect(server.connectionConfiguration)
            try await open.configSet("requirepass", "s3cret pass")
            await open.close()
            var configuration = RedisConnectionConfiguration(endpoint: .unix(path: server.unixSocket))
            configuration.password = RedisSecret("s3cret pass")
            let c = try await RedisConnection.connect(configuration)
            try await c.fill(300)
            let target = try temporaryFolder("copies")
            let report = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "auth", overReplication: true))
            let copy = try #require(report.copy)
            #expect(copy.source == "replication from \(server.unixSocket)")
            #expect(try await Self.keysIn(copy.path, lab: lab, name: "auth") == 300)
            // A wrong password: refused, named, and nothing written.
            var wrong = configuration
            wrong.password = RedisSecret("nope")
            do {
                _ = try await ReplicationSnapshotFetch.fetch(wrong, to: target, fileName: "x.rdb", timeout: .seconds(10))
                Issue.record("SYNC with a wrong password succeeded")
            } catch let error as PersistenceError {
                #expect(error.message.contains("AUTH on \(server.unixSocket) was refused"), "\(error.message)")
                #expect(!error.message.contains("nope"))
            }
            #expect(folderContents(target).count == 2)
            await c.close()
        }
    }

    @Test func fullDiskLeavesNothingBehind() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            // Random values do not compress: the dump is far over 64 KB.
            var commands: [RESPCommand] = []
            for i in 0..<200 {
                let value = (0..<1000).map { _ in String(UInt8.random(in: 33...126), radix: 16) }.joined()
                commands.append(["SET", .string("big:\(i)"), .string(value)])
            }
            _ = try await c.pipeline(commands)
            let target = try temporaryFolder("tiny")
            try await PersistenceFaults.withTinyDisk(target, size: "64k") {
                for overReplication in [false, true] {
                    do {
                        _ = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "m", overReplication: overReplication))
                        Issue.record("a copy of a dump over 64 KB fitted on a 64 KB disk")
                    } catch let error as PersistenceError {
                        #expect(error.kind == .file)
                        #expect(error.message.contains("No space left on device") && error.message.contains("the disk is full"), "\(error.message)")
                    }
                    #expect(folderContents(target).isEmpty, "left behind: \(folderContents(target))")
                }
            }
            await c.close()
        }
    }

    @Test func dumpNotReadableHereNamesThePathAndTheWayOut() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(20)
            let target = try temporaryFolder("copies")
            // A tmpfs over the server's folder hides its files from this process while the
            // server keeps writing into its own working folder, as for a server in a
            // container that listens on loopback.
            try await PersistenceFaults.withTinyDisk(server.directory, size: "1m") {
                do {
                    _ = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "m"))
                    Issue.record("copied a dump that is not visible here")
                } catch let error as PersistenceError {
                    #expect(error.kind == .file)
                    #expect(error.message.contains("cannot read the dump of 127.0.0.1:\(server.port) at \(server.directory)/dump.rdb"), "\(error.message)")
                    #expect(error.message.contains("--over-replication"))
                }
                #expect(folderContents(target).isEmpty)
                let fetched = try await Snapshot.run(c, Snapshot.Options(copyTo: target, name: "m", overReplication: true))
                #expect(fetched.copy?.verified == true)
            }
            await c.close()
        }
    }
}
