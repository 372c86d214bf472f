import Foundation
import Operations
import RedisClient
import Testing

/// The redkeep executable end to end: scripts, -c, piped stdin, exit codes, output modes,
/// record and replay, against real servers.
@Suite struct RedkeepBinaryTests {
    /// The debug build of redkeep next to these tests (`swift build --build-tests` builds it).
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/redkeep").path
    }()

    struct Run {
        var status: Int32
        var out: String
        var err: String
    }

    static func redkeep(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LabError("\(binary) is missing: build it with swift build --build-tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                   err: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryFile(_ name: String, _ text: String) throws -> String {
        let folder = NSTemporaryDirectory() + "redkeep-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func scriptWithArgumentsStartsAndStopsItsServers() throws {
        let script = try Self.temporaryFile("s.rk", """
            start m
            SET $1 $2
            let v = GET $1
            assert $v == $2
            let info = INFO server
            echo pid ${info.process_id}
            """)
        let run = try Self.redkeep([script, "color", "blue"])
        #expect(run.status == 0, "\(run.err)")
        let pidLine = run.out.split(separator: "\n").first { $0.hasPrefix("pid ") }
        let pid = try #require(pidLine.flatMap { Int32($0.dropFirst(4)) })
        // The server the script started is gone once redkeep has exited.
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "server \(pid) outlived the script")
    }

    @Test func commandLineConnectsFirstWithURL() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            // Quietly, as redis-cli does: only the statements' values are printed.
            let run = try Self.redkeep(["-u", "redis://127.0.0.1:\(server.port)", "-c", "SET a 1; INCR a; GET a"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out == "OK\n2\n2\n")
            let json = try Self.redkeep(["--port", "\(server.port)", "--json", "-c", "GET a; LRANGE none 0 -1; GET missing"])
            #expect(json.out == "\"2\"\n[]\nnull\n")
            // @name takes the redis prefix too.
            let prefixed = try Self.redkeep(["--port", "\(server.port)", "-c", "@default redis ECHO hi; redis ECHO there"])
            #expect(prefixed.out == "hi\nthere\n", "\(prefixed.err)")
        }
    }

    @Test func outputToAPipeKeepsItsOrderWithErrorsAndIsNotHeldBack() throws {
        // Standard output and error into one pipe, as `2>&1 | cat` would have them.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--on-error", "continue", "-c", "echo one; GET k; echo two; sleep 3s; echo three"]
        // No default address: GET fails at once with "no connection" whatever runs on 6379.
        process.environment = ProcessInfo.processInfo.environment.merging(["REDKEEP_DEFAULT_ADDRESS": ""]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("two\n") {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        // What came before the sleep arrived while redkeep was still sleeping.
        #expect(process.isRunning, "the output before the sleep came only at exit: \(String(decoding: seen, as: UTF8.self))")
        seen += pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        #expect(text == "one\n(error) -c:1:11: no connection: use connect NAME ADDRESS, or start NAME for a local server\n"
                + "    echo one; GET k; echo two; sleep 3s; echo three\n              ^\ntwo\nthree\n", "\(text)")
    }

    @Test func pipedStatementsRunWithoutPrompt() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let run = try Self.redkeep(["--port", "\(server.port)"], stdin: "SET k v\nrepeat 2 {\n  INCR n\n}\nGET n\n")
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.hasSuffix("OK\n1\n2\n2\n"), "\(run.out)")
            #expect(!run.out.contains(">"))
        }
    }

    @Test func exitCodesAndLocatedErrors() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let script = try Self.temporaryFile("bad.rk", "SET k v\n\nassert $(GET k) == w\necho never\n")
            let assertion = try Self.redkeep(["--port", "\(server.port)", script])
            #expect(assertion.status == 3)
            #expect(assertion.err.contains("bad.rk:3:1: assertion failed (v == w)"))
            #expect(assertion.err.contains("    assert $(GET k) == w\n    ^"))
            #expect(!assertion.out.contains("never"))

            let reply = try Self.redkeep(["--port", "\(server.port)", "-c", "LPUSH k x"])
            #expect(reply.status == 3)
            #expect(reply.err.contains("-c:1:1: 127.0.0.1:\(server.port) answered LPUSH with an error: WRONGTYPE"))

            let continued = try Self.redkeep(["--port", "\(server.port)", "--on-error", "continue", "-c", "LPUSH k x; GET k"])
            #expect(continued.status == 0)
            #expect(continued.out.hasSuffix("v\n"))

            let syntax = try Self.redkeep(["-c", "SET k 'open"])
            #expect(syntax.status == 1)
            #expect(syntax.err.contains("-c:1:7: unterminated single quote"))

            let refused = try Self.redkeep(["-c", "connect x 127.0.0.1:1"])
            #expect(refused.status == 2)
            #expect(refused.err.contains("cannot connect to 127.0.0.1:1: connection refused"))

            let usage = try Self.redkeep(["--on-error", "maybe", "-c", "echo"])
            #expect(usage.status == 1)
            let unknownFlag = try Self.redkeep(["--frobnicate"])
            #expect(unknownFlag.status == 1)
            #expect(unknownFlag.err.contains("Unknown option '--frobnicate'"))
        }
    }

    @Test func serverDyingMidScriptIsAConnectionError() throws {
        let run = try Self.redkeep(["-c", "start m; SET a 1; crash m; GET a"])
        #expect(run.status == 2, "\(run.err)")
        #expect(run.err.contains("-c:1:"))
        #expect(run.err.contains("cannot connect to 127.0.0.1:") || run.err.contains("closed"))
    }

    @Test func recordThenReplayGivesTheSameResult() throws {
        let folder = NSTemporaryDirectory() + "redkeep-record-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let recorded = folder + "/session.rk"
        let session = """
            record \(recorded)
            start m
            RPUSH list a b c
            AUTH nobody secret-password
            let n = LLEN list
            echo length $n
            LRANGE list 0 -1
            record stop
            echo not recorded
            """
        let first = try Self.redkeep(["--on-error", "continue"], stdin: session + "\n")
        let text = try String(contentsOfFile: recorded, encoding: .utf8)
        #expect(text == "start m\nRPUSH list a b c\nlet n = LLEN list\necho length $n\nLRANGE list 0 -1\n")
        #expect(!text.contains("secret-password"))
        let replay = try Self.redkeep([recorded])
        #expect(replay.status == 0, "\(replay.err)")
        // Everything after the server report is the same (the report names a fresh port).
        func afterStart(_ s: String) -> String { s.components(separatedBy: "server:Redis").last ?? s }
        #expect(afterStart(replay.out).contains("3\nlength 3\na\nb\nc\n"))
        #expect(afterStart(first.out).contains("3\nlength 3\na\nb\nc\nnot recorded\n"))
        #expect(first.err.contains("answered AUTH with an error: WRONGPASS"))
        // Statements read one by one from stdin are still named by their line in the input.
        #expect(first.err.contains("<stdin>:4:1:"), "\(first.err)")
        #expect(!first.err.contains("secret-password"))
    }

    /// scripts/tour.rk is what scripts/demo runs (the README's first command): it must run
    /// to the end, roll-forward included (a FLUSHALL searched for from before the archive's
    /// first base, and a mark).
    @Test func theTourRunsToTheEnd() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let run = try Self.redkeep([root.appendingPathComponent("scripts/tour.rk").path])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("restored: alice 125, bob 25; at the mark: alice 100"), "\(run.out.suffix(600))")
        #expect(run.out.contains("sound:yes"))
    }

    @Test func versionAndHelp() throws {
        let version = try Self.redkeep(["--version"])
        #expect(version.status == 0 && version.out.hasPrefix("redkeep "))
        let help = try Self.redkeep(["--help"])
        #expect(help.status == 0 && help.out.contains("redkeep FILE.rk [ARGS]"))
    }
}
