import AOF
import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// `aof status`, `aof setup` and `aof check --fix` against real servers and the AOFs they
/// write; the checker's verdicts compared with redis-check-aof's on the same files, and a
/// repaired copy loaded by a real server.
@Suite(.serialized) struct PersistenceAOFTests {
    @Test func statusShowsSettingsStateAndFiles() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(aofTimestamps: true))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(10)
            let status = try await AOFStatus.read(c)
            let settings = Dictionary(uniqueKeysWithValues: status.settings.map { ($0.name, $0.value) })
            #expect(settings["appendonly"] == "yes" && settings["aof-timestamp-enabled"] == "yes")
            #expect(settings["appendfsync"] == "everysec")
            let state = Dictionary(uniqueKeysWithValues: status.state.map { ($0.name, $0.value) })
            #expect(state["aof_enabled"] == "1" && state["aof_last_bgrewrite_status"] == "ok")
            let files = try #require(status.files)
            let incr = try #require(files.first { $0.type == "i" })
            let onDisk = try FileManager.default.attributesOfItem(atPath: server.directory + "/appendonlydir/" + incr.name)[.size] as? Int
            #expect(incr.size == onDisk && onDisk! > 0)
            await c.close()
        }
    }

    @Test func setupTurnsOnWhatRecoveryNeedsAndRewritesTheConfig() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(300)
            let report = try await AOFSetup.run(c, AOFSetup.Options(timestamps: true, noAutoRewrite: true, timeout: .seconds(60)))
            #expect(report.changes.map(\.name) == ["aof-timestamp-enabled", "auto-aof-rewrite-percentage", "appendonly"])
            #expect(report.changes.map(\.before) == ["no", "100", "no"])
            #expect(report.waitedForRewrite)
            let info = try await c.info("persistence")
            #expect(info.int("aof_enabled") == 1 && info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0)
            // The initial rewrite wrote a base holding the data.
            let manifest = try AOFManifest.load(server.directory + "/appendonlydir/appendonly.aof.manifest")
            #expect(manifest.base != nil)
            // The Lab's servers have a config file: CONFIG REWRITE made the change stick.
            #expect(report.configFile == server.configPath)
            let config = try String(contentsOfFile: server.configPath, encoding: .utf8)
            #expect(config.contains("appendonly yes") && config.contains("aof-timestamp-enabled yes"))
            // A second run changes nothing.
            let again = try await AOFSetup.run(c, AOFSetup.Options(timestamps: true, noAutoRewrite: true))
            #expect(again.changes.isEmpty && !again.waitedForRewrite && again.configFile == nil)
            // A restart loads the data from the AOF.
            await c.close()
            try await lab.restart("m")
            let d = try await RedisConnection.connect(server.connectionConfiguration)
            #expect(try await d.dbsize() == 300)
            await d.close()
        }
    }

    /// ok_up_to from redis-check-aof's report on `path`.
    static func referenceOKUpTo(_ path: String) async throws -> Int? {
        let run = try await ExternalCommand.run(try #require(ExternalCommand.find("redis-check-aof")), [path])
        // One line per file checked; the last is the file with the problem.
        guard let range = run.output.range(of: "ok_up_to=", options: .backwards) else { return nil }
        return Int(run.output[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func checkAgreesWithRedisCheckAOFAndTheRepairLoads() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            try await c.fill(100)
            _ = try await c.send(["MULTI"])
            _ = try await c.send(["INCR", "n"])
            _ = try await c.send(["INCR", "n"])  // one write alone is propagated without MULTI/EXEC
            _ = try await c.send(["EXEC"])
            try await c.fill(50, prefix: "late")
            await c.close()
            try await lab.crash("m")

            let source = server.directory + "/appendonlydir"
            let clean = try AOFCheck.check(path: source)
            #expect(clean.isValid, "\(String(describing: clean.problem))")
            let incr = try #require(clean.files.last)
            // SELECT, 100 SETs, MULTI INCR INCR EXEC, 50 SETs.
            #expect(incr.commands == 1 + 100 + 4 + 50 && incr.transactions == 1 && incr.timestamps >= 1, "\(incr)")

            // A copy with the last command cut in half, as a crash mid-write leaves it.
            let damaged = try temporaryFolder("damaged") + "/appendonlydir"
            try FileManager.default.copyItem(atPath: source, toPath: damaged)
            let incrPath = damaged + "/" + incr.name
            let bytes = try Data(contentsOf: URL(fileURLWithPath: incrPath))
            try bytes.prefix(bytes.count - 7).write(to: URL(fileURLWithPath: incrPath))
            let report = try AOFCheck.check(path: damaged)
            let problem = try #require(report.problem)
            #expect(problem.kind == .truncated)
            let reference = try await Self.referenceOKUpTo(damaged + "/appendonly.aof.manifest")
            #expect(report.problemFile?.validLength == reference)
            #expect(report.isFixable)

            let sourceHash = try DurableFile.sha256(ofFile: incrPath)
            let repaired = try AOFRepair.write(report, to: AOFRepair.defaultOutput(for: damaged))
            #expect(repaired.output == damaged + ".fixed")
            #expect(try DurableFile.sha256(ofFile: incrPath) == sourceHash, "the source was changed")
            #expect(try AOFCheck.check(path: repaired.output).isValid)
            // Refuses to overwrite.
            #expect(throws: PersistenceError.self) { try AOFRepair.write(report, to: repaired.output) }

            // A real server loads the repaired copy: every key but the one cut off.
            let restored = try temporaryFolder("restored")
            try FileManager.default.copyItem(atPath: repaired.output, toPath: restored + "/appendonlydir")
            let s = try await lab.start("restored", LocalServerOptions(appendOnly: true, directory: restored))
            let d = try await RedisConnection.connect(s.connectionConfiguration)
            #expect(try await d.dbsize() == 100 + 1 + 49)
            await d.close()
        }
    }

    @Test func verdictsMatchRedisCheckAOFOnDamagedFiles() async throws {
        func command(_ words: String...) -> String { "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined() }
        let good = command("SET", "a", "1") + command("SET", "b", "2")
        let cases = [
            good + String(decoding: Array(command("SET", "c", "3").utf8.prefix(20)), as: UTF8.self), // cut mid-command
            good + command("SET", "c", "3").replacingOccurrences(of: "$3", with: "%3"), // bad prefix
            good + command("MULTI") + command("SET", "c", "3"),                    // open transaction
            good + "*2\r\n$3\r\nGET\r\n$1\r\nabc\r\n",                              // bulk longer than declared
        ]
        let folder = try temporaryFolder("cases")
        for (i, text) in cases.enumerated() {
            let path = "\(folder)/case\(i).aof"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let report = try AOFCheck.check(path: path)
            #expect(!report.isValid)
            let reference = try await Self.referenceOKUpTo(path)
            #expect(report.files[0].validLength == reference, "case \(i): \(String(describing: report.problem))")
        }
    }
}
