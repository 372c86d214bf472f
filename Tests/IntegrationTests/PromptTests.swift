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
        pty.send("start alpha\r")
        try pty.expect("alpha 127.0.0.1:")
        try pty.expect("> ")
        pty.send("start beta\r")
        try pty.expect("> ")

        // Tab completes a connection name after `use`, and a redkeep word at the start.
        pty.send("use be\t\r")
        try pty.expect("beta 127.0.0.1:")
        try pty.expect("> ")
        pty.send("connecti\t\r")
        try pty.expect("alpha")
        try pty.expect("> ")

        // Each line is typed once the prompt is back, as a person would.
        pty.send("SET greeting hello\r")
        try pty.expect("OK")
        try pty.expect("> ")
        pty.send("MULTI\r")
        try pty.expect("(TX)> ")
        pty.send("INCR n\r")
        try pty.expect("QUEUED")
        try pty.expect("(TX)> ")
        pty.send("EXEC\r")
        try pty.expect("1) (integer) 1")
        try pty.expect("> ")

        // A password typed at the prompt: the command runs, history does not keep it.
        pty.send("AUTH someone hunter2-secret\r")
        try pty.expect("WRONGPASS")
        try pty.expect("> ")
        pty.send("CONFIG SET requirepass other-secret; CONFIG SET requirepass ''\r")
        try pty.expect("OK")
        try pty.expect("> ")

        // Ctrl-C drops a half-typed line; the prompt comes back.
        pty.send("GET never-sent")
        try pty.expect("GET never-sent")
        pty.send("\u{03}")
        try pty.expect("> ")
        pty.send("GET greeting\r")
        try pty.expect("\"hello\"")
        try pty.expect("> ")

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
    /// server forgets the BLPOP, and the next statement reconnects.
    @Test(.timeLimit(.minutes(2))) func ctrlCInterruptsACommandWaitingOnTheServer() async throws {
        try await withLab { lab in
            let server = try await lab.start("blocking")
            let probe = try await RedisConnection.connect(server.connectionConfiguration)
            let (pty, _, folder) = try Self.session()
            defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
            try pty.expect("redkeep> ")
            pty.send("connect alpha 127.0.0.1:\(server.port)\r")
            try pty.expect("\(server.port)> ")
            pty.send("BLPOP nothing 0\r")
            // Ctrl-C only once the server holds the command: it is the wait that is cut.
            while try await probe.info("clients").int("blocked_clients") != 1 {
                try await Task.sleep(for: .milliseconds(20))
            }
            pty.send("\u{03}")
            try pty.expect("interrupted")
            try pty.expect("\(server.port)> ")
            // The server lets go of the BLPOP once it sees the connection close.
            while try await probe.info("clients").int("blocked_clients") != 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            pty.send("RPUSH nothing x\r")
            try pty.expect("(integer) 1")
            try pty.expect("\(server.port)> ")
            pty.send("LLEN nothing\r")
            try pty.expect("(integer) 1")
            try pty.expect("\(server.port)> ")
            pty.send("\u{04}")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
            await probe.close()
        }
    }
}
