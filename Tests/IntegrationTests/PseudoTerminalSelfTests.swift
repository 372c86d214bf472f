import Foundation
import Testing

/// The pty harness itself, on programs whose terminal behaviour is known: `cat` (the
/// kernel's line discipline echoes and edits), `sh`/`bash -i` (job control needs a
/// controlling terminal) and python3 (reads a line with `input()`).
@Suite struct PseudoTerminalSelfTests {
    private let environment = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8", "HOME": NSTemporaryDirectory(),
    ]

    @Test func catEchoesAndEndsOnCtrlD() throws {
        let pty = try PseudoTerminal("/bin/cat", [], environment: environment)
        pty.send("hello pty\r")
        // Once as the terminal echoes the typing, once as cat writes it back.
        try pty.expect("hello pty\n")
        try pty.expect("hello pty\n")
        pty.send("\u{04}")
        #expect(try pty.waitForExit() == 0)
        #expect(pty.output == "hello pty\nhello pty\n")
    }

    @Test func ctrlCBecomesSIGINTThroughTheTerminal() throws {
        let pty = try PseudoTerminal("/bin/cat", [], environment: environment)
        pty.send("partial")
        try pty.expect("partial")
        pty.send("\u{03}")
        #expect(try pty.waitForExit() == 128 + SIGINT)
    }

    @Test func theChildHasAControllingTerminalOf80x24() throws {
        let pty = try PseudoTerminal("/bin/sh", ["-c", "tty; stty size; cut -d' ' -f6 /proc/$$/stat; echo pid=$$"], environment: environment)
        try pty.expect("/dev/pts/")
        try pty.expect("24 80\n")
        #expect(try pty.waitForExit() == 0)
        // The child leads its own session (field 6 of /proc/PID/stat): its session id is its pid.
        let lines = pty.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains("\(pty.pid)"))
        #expect(lines.contains("pid=\(pty.pid)"))
    }

    @Test func pythonReadsALineWithInput() throws {
        let pty = try PseudoTerminal(
            "/usr/bin/env", ["python3", "-c", "print('got', repr(input('name? ')))"],
            environment: environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { $1 })
        try pty.expect("name? ")
        pty.send("Grüße\r")
        try pty.expect("got 'Grüße'\n")
        #expect(try pty.waitForExit() == 0)
    }

    @Test func expectTimesOutSayingWhatWasSeen() throws {
        let pty = try PseudoTerminal("/bin/cat", [], environment: environment)
        pty.send("abc\r")
        try pty.expect("abc")
        do {
            try pty.expect("xyz", timeout: .milliseconds(300))
            Issue.record("expect should have timed out")
        } catch let error as PseudoTerminalError {
            #expect(error.description.contains("\"xyz\""))
            #expect(error.description.contains("abc"))
        }
        pty.terminate()
        #expect(try pty.waitForExit() == 128 + SIGKILL)
    }

    @Test func expectFailsAtOnceWhenTheOutputEnds() throws {
        let pty = try PseudoTerminal("/bin/sh", ["-c", "echo bye"], environment: environment)
        let start = ContinuousClock.now
        #expect(throws: PseudoTerminalError.self) { try pty.expect("never", timeout: .seconds(20)) }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(pty.output == "bye\n")
    }

    @Test func terminateKillsWhatStillRuns() throws {
        let pty = try PseudoTerminal("/bin/sleep", ["60"], environment: environment)
        let pid = pty.pid
        pty.terminate()
        #expect(kill(pid, 0) == -1)
        pty.terminate()  // twice is fine
    }

    @Test func spawningAMissingProgramThrows() {
        #expect(throws: PseudoTerminalError.self) {
            _ = try PseudoTerminal("/nonexistent/program", [], environment: environment)
        }
    }

    @Test func escapeSequencesAreStripped() throws {
        var filter = TerminalTextFilter()
        let raw = Array(
            "\u{1B}[?2004h\u{1B}[1;31mred\u{1B}[0m\u{1B}]0;title\u{07}\u{1B}(Bok\r\n\u{07}x\rY^C\r\u{1B}[?2004l\r\r\nnext\n\u{1B}[?2004l\rLINE".utf8)
        // Split mid-sequence: state carries over between reads.
        let out = filter.filter(raw[0..<5]) + filter.filter(raw[5...])
        #expect(String(decoding: out, as: UTF8.self) == "redok\nx\rY^C\nnext\nLINE")
    }
}
