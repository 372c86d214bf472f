import Foundation
import Operations
import RedisClient
import Testing

/// The interactive prompt, driven through a pseudo-terminal as a person types: the prompt
/// names the connection and shows (TX), Tab completes connection names and words, Ctrl-C
/// cancels a line or the statement running, Ctrl-D leaves, and history keeps no password.
@Suite struct PromptTests {
    static func session() throws -> (PseudoTerminal, history: String, folder: String) {
        let folder = NSTemporaryDirectory() + "redkeep-prompt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let history = folder + "/history"
        let environment = ProcessInfo.processInfo.environment.merging([
            "REDKEEP_HISTFILE": history, "HOME": folder, "TERM": "xterm", "NO_COLOR": "1", "INPUTRC": "/dev/null",
        ]) { $1 }
        let pty = try PseudoTerminal(RedkeepBinaryTests.binary, [], environment: environment)
        return (pty, history, folder)
    }

    @Test func promptCompletionTransactionsAndHistoryWithoutSecrets() throws {
        let (pty, history, folder) = try Self.session()
        defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
        try pty.expect("redkeep> ")
        try pty.type("start alpha", expecting: "alpha 127.0.0.1:")
        pty.send("start beta\r")
        try pty.expect("> ")

        // Tab completes a connection name after `use`, and a redkeep word at the start.
        try pty.type("use be\t", expecting: "beta 127.0.0.1:")
        try pty.type("connecti\t", expecting: "alpha")

        // Each line is typed once the prompt is back, as a person would.
        try pty.type("SET greeting hello", expecting: "OK")
        pty.send("MULTI\r")
        try pty.expect("(TX)> ")
        try pty.type("INCR n", expecting: "QUEUED", prompt: "(TX)> ")
        try pty.type("EXEC", expecting: "1) (integer) 1")

        // A password typed at the prompt: the command runs, history does not keep it.
        try pty.type("AUTH someone hunter2-secret", expecting: "WRONGPASS")
        try pty.type("CONFIG SET requirepass other-secret; CONFIG SET requirepass ''", expecting: "OK")

        // Ctrl-C drops a half-typed line; the prompt comes back.
        pty.send("GET never-sent")
        try pty.expect("GET never-sent")
        pty.send("\u{03}")
        try pty.expect("> ")
        try pty.type("GET greeting", expecting: "\"hello\"")

        pty.send("\u{04}")
        #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)

        let kept = try String(contentsOfFile: history, encoding: .utf8)
        #expect(kept.contains("SET greeting hello"))
        #expect(kept.contains("use beta"))
        #expect(!kept.contains("hunter2-secret"))
        #expect(!kept.contains("other-secret"))
        #expect(!kept.contains("never-sent"))
    }

    /// Ctrl-C while a command waits on the server (BLPOP with no timeout) stops the
    /// statement and brings the prompt back; the connection is closed under it, so the
    /// server forgets the BLPOP, and the next statement reconnects into the same database.
    @Test(.timeLimit(.minutes(2))) func ctrlCInterruptsACommandWaitingOnTheServer() async throws {
        try await withLab { lab in
            let server = try await lab.start("blocking")
            let probe = try await RedisConnection.connect(server.connectionConfiguration)
            let (pty, _, folder) = try Self.session()
            defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
            try pty.expect("redkeep> ")
            pty.send("connect alpha 127.0.0.1:\(server.port)\r")
            try pty.expect("\(server.port)> ")
            try pty.type("SELECT 2", expecting: "OK", prompt: "\(server.port)[2]> ")
            pty.send("BLPOP nothing 0\r")
            func waitForBlockedClients(_ count: Int) async throws {
                while try await probe.info("clients").int("blocked_clients") != count {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            // Ctrl-C only once the server holds the command: it is the wait that is cut.
            try await waitForBlockedClients(1)
            pty.send("\u{03}")
            try pty.expect("interrupted")
            try pty.expect("\(server.port)[2]> ")
            // The server lets go of the BLPOP once it sees the connection close.
            try await waitForBlockedClients(0)
            // The reconnect comes back on database 2, where the statements keep landing.
            try pty.type("RPUSH nothing x", expecting: "(integer) 1", prompt: "\(server.port)[2]> ")
            try pty.type("LLEN nothing", expecting: "(integer) 1", prompt: "\(server.port)[2]> ")
            _ = try await probe.send(["SELECT", "2"])
            #expect(try await probe.send(["LLEN", "nothing"]) == .integer(1))
            pty.send("\u{04}")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
            await probe.close()
        }
    }
}

extension PseudoTerminal {
    /// Types `line` and Enter, then waits for `reply` and for `prompt` after it, as a
    /// person waits for the prompt before typing the next line.
    func type(_ line: String, expecting reply: String, prompt: String = "> ") throws {
        send(line + "\r")
        try expect(reply)
        try expect(prompt)
    }
}
