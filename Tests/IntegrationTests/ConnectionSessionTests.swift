import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// What a connection's session keeps across a reconnect (SELECT, AUTH, HELLO 3, CLIENT
/// SETNAME), the prompt's `[db]`, and blocking commands that outlast the reply timeout,
/// with the redkeep binary against a real server.
@Suite struct ConnectionSessionTests {
    /// The id of the client called `name` in the server's CLIENT LIST, if connected.
    static func clientLine(_ probe: RedisConnection, named name: String) async throws -> String? {
        let list = try await probe.send(["CLIENT", "LIST"]).string ?? ""
        return list.split(separator: "\n").first { $0.contains(" name=\(name) ") }.map(String.init)
    }

    /// Kills the client called `name` and waits until the server has let it go.
    static func kill(_ probe: RedisConnection, named name: String) async throws {
        let line = try #require(try await clientLine(probe, named: name))
        let id = try #require(line.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3))
        _ = try await probe.send(["CLIENT", "KILL", "ID", .string(String(id))])
        while try await clientLine(probe, named: name) != nil { try await Task.sleep(for: .milliseconds(20)) }
    }

    /// A Lab server whose password becomes `first-pw`, and a probe connected before that.
    func withPasswordServer(_ body: (LocalServer, RedisConnection) async throws -> Void) async throws {
        try await withLab { lab in
            let server = try await lab.start("session")
            let probe = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await probe.send(["CONFIG", "SET", "requirepass", "first-pw"])
            do {
                try await body(server, probe)
            } catch {
                await probe.close()
                throw error
            }
            await probe.close()
        }
    }

    @Test(.timeLimit(.minutes(2))) func promptShowsTheDatabaseAndAReconnectRestoresTheSession() async throws {
        try await withPasswordServer { server, probe in
            let (pty, _, folder) = try PromptTests.session()
            defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
            let port = server.port
            try pty.expect("redkeep> ")
            pty.send("connect alpha 127.0.0.1:\(port)\r")
            try pty.expect("\(port)> ")
            try pty.type("AUTH first-pw", expecting: "OK", prompt: "\(port)> ")
            try pty.type("HELLO 3", expecting: "proto", prompt: "\(port)> ")
            try pty.type("CLIENT SETNAME worker", expecting: "OK", prompt: "\(port)> ")
            // The prompt shows the database after SELECT, as redis-cli does.
            try pty.type("SELECT 3", expecting: "OK", prompt: "alpha 127.0.0.1:\(port)[3]> ")
            try pty.type("SET before 1", expecting: "OK", prompt: "[3]> ")

            // The server drops the connection; the next command reconnects with it all.
            try await Self.kill(probe, named: "worker")
            try pty.type("SET after 1", expecting: "OK", prompt: "alpha 127.0.0.1:\(port)[3]> ")
            let line = try #require(try await Self.clientLine(probe, named: "worker"))
            let fields = Set(line.split(separator: " ").map(String.init))
            #expect(fields.isSuperset(of: ["db=3", "resp=3", "user=default"]), "\(line)")
            _ = try await probe.send(["SELECT", "3"])
            #expect(try await probe.send(["MGET", "before", "after"]) == .array([.bulk("1"), .bulk("1")]))

            // When the session cannot be set up again, the statement fails saying so,
            // without the password.
            _ = try await probe.send(["CONFIG", "SET", "requirepass", "second-pw"])
            try await Self.kill(probe, named: "worker")
            pty.send("GET after\r")
            let said = try pty.expect("\(port)[3]> ")
            #expect(said.contains("lost the connection alpha and could not set up its session again (database 3, AUTH as default, RESP3, name \"worker\")"), "\(said)")
            #expect(said.contains("WRONGPASS"), "\(said)")
            #expect(!said.contains("first-pw", after: "GET after"), "\(said)")
            pty.send("\u{04}")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aScriptStopsWithExitTwoWhenTheSessionCannotBeRestored() async throws {
        try await withPasswordServer { server, probe in
            let port = server.port
            let script = try RedkeepBinaryTests.temporaryFile("restore.rk", """
                connect alpha 127.0.0.1:\(port)
                AUTH first-pw
                CLIENT SETNAME alpha
                SELECT 2
                connect gate redis://:first-pw@127.0.0.1:\(port)
                BLPOP go 0
                use alpha
                SET after 1
                SET never 1
                """)
            let pty = try PseudoTerminal(RedkeepBinaryTests.binary, [script], environment: ProcessInfo.processInfo.environment)
            defer { pty.terminate() }
            // While the script waits on `gate`, alpha's connection is dropped and the password changes.
            while try await probe.info("clients").int("blocked_clients") != 1 { try await Task.sleep(for: .milliseconds(20)) }
            _ = try await probe.send(["CONFIG", "SET", "requirepass", "second-pw"])
            try await Self.kill(probe, named: "alpha")
            _ = try await probe.send(["RPUSH", "go", "1"])
            let said = try pty.expect("WRONGPASS")
            #expect(said.contains("lost the connection alpha and could not set up its session again (database 2, AUTH as default, name \"alpha\")"), "\(said)")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 2)
            #expect(try await probe.send(["EXISTS", "after"]) == .integer(0))
            _ = try await probe.send(["SELECT", "2"])
            #expect(try await probe.send(["EXISTS", "after", "never"]) == .integer(0))
        }
    }

    @Test(.timeLimit(.minutes(2))) func blockingCommandsOutlastTheReplyTimeout() async throws {
        try await withLab { lab in
            let server = try await lab.start("blocking")
            // A 1 s reply timeout; the server holds each of these longer than that.
            let run = try RedkeepBinaryTests.redkeep(["-c", """
                connect a 127.0.0.1:\(server.port) --timeout 1s
                BLPOP nothing 2
                BRPOP nothing 1.5
                BLMOVE nothing other LEFT RIGHT 1.5
                BZPOPMIN nozset 1.5
                XREAD BLOCK 1500 STREAMS nostream $
                WAIT 1 1200
                PING
                """])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.hasSuffix("PONG\n"), "\(run.out)")
            // A plain command the server holds as long fails at the reply timeout, naming it.
            let slow = try RedkeepBinaryTests.redkeep(["-c", """
                connect a 127.0.0.1:\(server.port) --timeout 1s
                EVAL "local t = redis.call('TIME') local e = t[1] + 2 while tonumber(redis.call('TIME')[1]) < e do end return 1" 0
                """])
            #expect(slow.status == 2 && slow.err.contains("no reply from 127.0.0.1:\(server.port) to EVAL within 1s"), "\(slow.err)")
        }
    }

    /// A reply timeout closes the connection; the next command reconnects into the same
    /// database, as after any other reconnect.
    @Test(.timeLimit(.minutes(2))) func aTimeoutReconnectsIntoTheSameDatabase() async throws {
        try await withLab { lab in
            let server = try await lab.start("timeout", LocalServerOptions(config: [("enable-debug-command", "local")]))
            let run = try RedkeepBinaryTests.redkeep(["--on-error", "continue", "-c", """
                connect a 127.0.0.1:\(server.port) --timeout 1s
                SELECT 4
                DEBUG SLEEP 1.5
                sleep 1s
                SET after-timeout 1
                """])
            #expect(run.err.contains("no reply from 127.0.0.1:\(server.port) to DEBUG within 1s"), "\(run.err)")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["SELECT", "4"])
            #expect(try await c.send(["EXISTS", "after-timeout"]) == .integer(1), "\(run.out) \(run.err)")
            _ = try await c.send(["SELECT", "0"])
            #expect(try await c.send(["DBSIZE"]) == .integer(0))
            await c.close()
        }
    }
}

extension String {
    /// True when `text` occurs in the part of this string after `marker`.
    func contains(_ text: String, after marker: String) -> Bool {
        guard let range = range(of: marker) else { return false }
        return self[range.upperBound...].contains(text)
    }
}
