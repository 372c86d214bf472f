import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The collector as a separate `redkeep ... chunk run` process, killed with SIGKILL at
/// random moments and restarted, while Redis is under load, rewrites, and is itself
/// killed and restarted: the archive must still equal the AOF files byte for byte.
@Suite(.serialized) struct CollectorProcessTests {
    /// Starts `redkeep -c 'connect s ...; chunk run ...'` with its output in a log file.
    static func startCollector(port: Int, archive: String, log: String) throws -> Process {
        guard FileManager.default.isExecutableFile(atPath: RedkeepBinaryTests.binary) else {
            throw LabError("\(RedkeepBinaryTests.binary) is missing: build it with swift build --build-tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedkeepBinaryTests.binary)
        process.arguments = ["-c", "connect s 127.0.0.1:\(port); chunk run --archive \(archive) --chunk-size 2KB --interval 50ms --pause 0ms --rate 0"]
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func waitForExit(_ process: Process, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw LabError("the collector \(process.processIdentifier) did not exit within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func killedCollectorAndCrashedRedisLoseNothing() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", CollectorTests.serverOptions())
            let archive = try CollectorTests.temporaryFolder()
            let log = archive + ".log"
            defer {
                try? FileManager.default.removeItem(atPath: archive)
                try? FileManager.default.removeItem(atPath: log)
            }
            var control = try await lab.connect("m")
            var load = CollectorTests.Load(server.connectionConfiguration)
            var generator = SystemRandomNumberGenerator()
            // Six SIGKILLs at random moments, with rewrites in between.
            for round in 0..<6 {
                let collector = try Self.startCollector(port: server.port, archive: archive, log: log)
                try await Task.sleep(for: .milliseconds(Int64.random(in: 150...700, using: &generator)))
                if round % 2 == 1 { try await CollectorTests.rewrite(control) }
                try await Task.sleep(for: .milliseconds(Int64.random(in: 0...300, using: &generator)))
                kill(collector.processIdentifier, SIGKILL)
                try await Self.waitForExit(collector)
                #expect(collector.terminationReason == .uncaughtSignal)
            }
            // Redis itself is killed and restarted while the collector runs: it follows.
            let collector = try Self.startCollector(port: server.port, archive: archive, log: log)
            try await Task.sleep(for: .milliseconds(400))
            _ = try await load.finish()
            await control.close()
            try await lab.crash("m")
            let restarted = try await lab.restart("m")
            control = try await lab.connect("m")
            load = CollectorTests.Load(restarted.connectionConfiguration)
            try await Task.sleep(for: .milliseconds(400))
            try await CollectorTests.rewrite(control)
            try await Task.sleep(for: .milliseconds(300))
            _ = try await load.finish()
            // SIGTERM: the collector copies what is pending and exits 0.
            kill(collector.processIdentifier, SIGTERM)
            try await Self.waitForExit(collector)
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(collector.terminationReason == .exit && collector.terminationStatus == 0, "\(output)")
            let summary = try ArchiveVerification.verify(archive: archive, aofDirectory: CollectorTests.aofDirectory(restarted))
            #expect(summary.chunks >= 100, "only \(summary.chunks) chunks")
            #expect(summary.generations >= 5)
            await control.close()
        }
    }

    @Test func shellCommandsStartStatusMarkAndStop() async throws {
        let folder = try CollectorTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let archive = folder + "/archive"
        let serverDir = folder + "/server"
        let script = """
            start m --aof --dir \(serverDir) --config aof-disable-auto-gc yes
            chunk start --archive \(archive) --interval 50ms --pause 0ms --chunk-size 1KB
            SET a 1
            repeat 50 { INCR n }
            mark before-flush
            FLUSHALL
            SET b 2
            sleep 300ms
            let s = chunk status m
            echo state ${s.state} behind ${s.bytes_behind} errors ${s.errors}
            let t = chunk stop m
            echo stopped ${t.state}
            """
        let run = try RedkeepBinaryTests.redkeep(["-c", script])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("state running behind 0 errors 0"), "\(run.out)")
        #expect(run.out.contains("stopped stopped"), "\(run.out)")
        let index = try ArchiveIndex.read(archive)
        #expect(index.marks.map(\.name) == ["before-flush"])
        // The mark's key sits in the AOF before the FLUSHALL.
        let joined = try index.chunks(of: 1).flatMap { try ArchiveVerification.read(archive + "/" + $0.path) }
        let text = String(decoding: joined, as: UTF8.self)
        let markAt = try #require(text.range(of: "redkeep:mark:before-flush"))
        let flushAt = try #require(text.range(of: "FLUSHALL"))
        #expect(markAt.lowerBound < flushAt.lowerBound)
        try ArchiveVerification.verify(archive: archive, aofDirectory: serverDir + "/appendonlydir")

        let bad = try RedkeepBinaryTests.redkeep(["-c", "start p; chunk start --archive \(folder)/other --chunk-size lots"])
        #expect(bad.status == 1)
        #expect(bad.err.contains("--chunk-size takes a size from 1KB to 1GB like 64KB or 4MB, not \"lots\""), "\(bad.err)")
        let noAOF = try RedkeepBinaryTests.redkeep(["-c", "start p; chunk start --archive \(folder)/other"])
        #expect(noAOF.status == 3)
        #expect(noAOF.err.contains("has appendonly no"), "\(noAOF.err)")
    }

    @Test func twoCollectorsForTwoServersRunAtOnce() async throws {
        let folder = try CollectorTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = """
            start a --aof --dir \(folder)/a --config aof-disable-auto-gc yes
            start b --aof --dir \(folder)/b --config aof-disable-auto-gc yes
            @a chunk start --archive \(folder)/archive-a --interval 50ms --pause 0ms
            @b chunk start --archive \(folder)/archive-b --interval 50ms --pause 0ms
            @a SET only-a 1
            @b SET only-b 2
            sleep 300ms
            let all = chunk status
            echo collectors ${all[0].name} ${all[1].name}
            chunk stop a
            chunk stop b
            """
        let run = try RedkeepBinaryTests.redkeep(["-c", script])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("collectors a b"), "\(run.out)")
        for (name, key, other) in [("a", "only-a", "only-b"), ("b", "only-b", "only-a")] {
            let archive = "\(folder)/archive-\(name)"
            try ArchiveVerification.verify(archive: archive, aofDirectory: "\(folder)/\(name)/appendonlydir")
            let index = try ArchiveIndex.read(archive)
            let text = String(decoding: try index.chunks.flatMap { try ArchiveVerification.read(archive + "/" + $0.path) }, as: UTF8.self)
            #expect(text.contains(key) && !text.contains(other), "archive-\(name)")
        }
    }
}
