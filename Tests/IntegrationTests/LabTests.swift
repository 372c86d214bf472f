import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Local servers: start, replicas, crash and restart, cleanup, and every way starting fails.
@Suite struct LabTests {
    @Test func replicaLinksAndReceivesWrites() async throws {
        try await withLab { lab in
            let master = try await lab.start("master")
            let replica = try await lab.start("replica", LocalServerOptions(replicaOf: "master"))
            #expect(replica.replicaOf == "127.0.0.1:\(master.port)")
            let m = try await RedisConnection.connect(master.connectionConfiguration)
            let r = try await RedisConnection.connect(replica.connectionConfiguration)
            _ = try await m.send(["SET", "greeting", "hello"])
            #expect(try await m.send(["WAIT", "1", "5000"]) == .integer(1))
            #expect(try await r.send(["GET", "greeting"]) == .bulk("hello"))
            let info = try await r.info("replication")
            #expect(info.string("role") == "slave")
            #expect(info.string("master_link_status") == "up")
            #expect(info.int("master_port") == master.port)
            await m.close()
            await r.close()
        }
    }

    @Test func crashAndRestartKeepsAOFData() async throws {
        try await withLab { lab in
            let first = try await lab.start("m", LocalServerOptions(appendOnly: true, config: [("appendfsync", "always")]))
            let c = try await RedisConnection.connect(first.connectionConfiguration)
            for i in 0..<100 { _ = try await c.send(["RPUSH", "events", .string("e\(i)")]) }
            try await lab.crash("m")
            #expect(await lab.isRunning("m") == false)
            #expect(kill(first.pid, 0) == -1)

            let second = try await lab.restart("m")
            #expect(second.port == first.port)
            #expect(second.pid != first.pid)
            let again = try await RedisConnection.connect(second.connectionConfiguration)
            #expect(try await again.send(["LLEN", "events"]) == .integer(100))
            #expect(try await again.send(["LINDEX", "events", "99"]) == .bulk("e99"))
            // The AOF is a Redis 7 folder with a manifest (or a single file on Redis <= 6).
            let files = try FileManager.default.contentsOfDirectory(atPath: second.directory)
            #expect(files.contains("appendonlydir") || files.contains("appendonly.aof"))
            await again.close()
        }
    }

    @Test func aofTimestampsAreWrittenWhenAsked() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(aofTimestamps: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            #expect(try await c.configGet("aof-timestamp-enabled")["aof-timestamp-enabled"] == "yes")
            #expect(try await c.configGet("appendonly")["appendonly"] == "yes")
            await c.close()
        }
    }

    @Test func twoServersAtOnceAndCleanupLeavesNoProcess() async throws {
        let lab = try Lab()
        let a = try await lab.start("a")
        let b = try await lab.start("b", LocalServerOptions(appendOnly: true))
        #expect(a.port != b.port)
        #expect(a.directory != b.directory)
        let ca = try await RedisConnection.connect(a.connectionConfiguration)
        let cb = try await RedisConnection.connect(b.connectionConfiguration)
        _ = try await ca.send(["SET", "where", "a"])
        _ = try await cb.send(["SET", "where", "b"])
        #expect(try await ca.send(["GET", "where"]) == .bulk("a"))
        #expect(try await cb.send(["GET", "where"]) == .bulk("b"))
        #expect(ProcessRegistry.shared.running.isSuperset(of: [a.pid, b.pid]))
        await ca.close()
        await cb.close()

        await lab.shutdown()
        for pid in [a.pid, b.pid] {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "server pid \(pid) still exists after shutdown")
            #expect(!ProcessRegistry.shared.running.contains(pid))
        }
        #expect(!FileManager.default.fileExists(atPath: lab.root))
    }

    @Test func withLabStopsServersWhenTheBodyThrows() async throws {
        struct Boom: Error {}
        var pid: Int32 = 0
        do {
            try await withLab { lab in
                pid = try await lab.start("m").pid
                throw Boom()
            }
        } catch is Boom {}
        #expect(pid > 0)
        #expect(kill(pid, 0) == -1)
    }

    @Test func stopIsCleanAndRestartReloads() async throws {
        try await withLab { lab in
            let first = try await lab.start("m", LocalServerOptions(config: [("save", "3600 1")]))
            let c = try await RedisConnection.connect(first.connectionConfiguration)
            _ = try await c.send(["SET", "kept", "by-the-shutdown-save"])
            try await lab.stop("m")
            #expect(await lab.isRunning("m") == false)
            // A clean stop saved the snapshot the configuration asks for.
            #expect(FileManager.default.fileExists(atPath: first.directory + "/dump.rdb"))
            let second = try await lab.restart("m")
            let again = try await RedisConnection.connect(second.connectionConfiguration)
            #expect(try await again.send(["GET", "kept"]) == .bulk("by-the-shutdown-save"))
            await again.close()
        }
    }

    @Test func portInUseIsAClearError() async throws {
        try await withLab { lab in
            let first = try await lab.start("first")
            let error = try await #require(throws: LabError.self) {
                try await lab.start("second", LocalServerOptions(port: first.port))
            }
            #expect(error.message == "cannot start second on 127.0.0.1:\(first.port): the port is in use")
            #expect(error.kind == .portUnavailable)
            #expect(error.server == "second")
        }
    }

    @Test func serverThatExitsAtOnceShowsItsLog() async throws {
        try await withLab { lab in
            let error = try await #require(throws: LabError.self) {
                try await lab.start("bad", LocalServerOptions(config: [("no-such-directive", "yes")]))
            }
            #expect(error.message.contains("for bad exited at once (exit status 1)"))
            #expect(error.kind == .startFailed && error.server == "bad")
            #expect(error.message.contains("last lines of its log:"))
            #expect(error.message.contains("no-such-directive"))
        }
    }

    @Test func replicaThatNeverLinksTimesOut() async throws {
        try await withLab { lab in
            let nowhere = try freePortForTest()
            let error = try await #require(throws: LabError.self) {
                try await lab.start("lonely", LocalServerOptions(replicaOf: "127.0.0.1:\(nowhere)", linkTimeout: .seconds(1)))
            }
            #expect(error.message.contains("did not link to its master 127.0.0.1:\(nowhere) within 1"))
            #expect(error.message.contains("master_link_status is down"))
            #expect(error.kind == .timeout && error.server == "lonely")
            #expect(await lab.isRunning("lonely") == false)
        }
    }

    @Test func unknownMasterAndDuplicateNamesAreRefused() async throws {
        try await withLab { lab in
            let missing = try await #require(throws: LabError.self) {
                try await lab.start("r", LocalServerOptions(replicaOf: "ghost"))
            }
            #expect(missing.message.contains("no local server has that name"))
            #expect(missing.kind == .notFound && missing.server == "ghost")
            try await lab.start("m")
            let duplicate = try await #require(throws: LabError.self) { try await lab.start("m") }
            #expect(duplicate.message.hasPrefix("a server called m is already running"))
            #expect(duplicate.kind == .alreadyExists)
            let unknown = try await #require(throws: LabError.self) { try await lab.crash("nobody") }
            #expect(unknown.message == "no local server called nobody (known: m)")
            #expect(unknown.kind == .notFound && unknown.server == "nobody")
        }
    }

    @Test func missingBinarySaysHowToInstallOne() throws {
        let error = try #require(throws: LabError.self) {
            try ServerBinary.locate(environment: ["PATH": "/nonexistent"])
        }
        #expect(error.message.contains("no Redis server binary found"))
        #expect(error.message.contains("apt-get install redis-server"))
        #expect(error.message.contains("REDKEEP_SERVER"))
        #expect(error.kind == .binaryMissing)
        let wrong = try #require(throws: LabError.self) {
            try ServerBinary.locate(environment: ["REDKEEP_SERVER": "/bin/nothing-here", "PATH": "/usr/bin"])
        }
        #expect(wrong.message.contains("REDKEEP_SERVER is \"/bin/nothing-here\""))
        #expect(wrong.kind == .binaryMissing)
    }

    @Test func binaryVersionIsDetected() throws {
        let binary = try ServerBinary.locate()
        #expect(binary.product == "Redis" || binary.product == "Valkey")
        #expect((binary.versionNumbers.first ?? 0) >= 7)
    }
}
