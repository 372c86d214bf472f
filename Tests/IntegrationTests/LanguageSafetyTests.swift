import Foundation
import Testing

/// The built redkeep against what used to break it: nesting deep enough to overflow the
/// stack, exit codes past 255, and passwords after `let NAME =` reaching the history file,
/// `record` files and error echoes.
@Suite struct LanguageSafetyTests {
    static let tooDeepBlocks = String(repeating: "if 1 {\n", count: 7_000) + String(repeating: "}\n", count: 7_000)
    static let tooDeepSubstitutions = "echo " + String(repeating: "$(echo ", count: 4_000) + "x" + String(repeating: ")", count: 4_000)

    /// A clear error at the same depth whether the text comes from a file, -c or stdin,
    /// where it used to end in a segmentation fault.
    @Test func deepNestingIsAnErrorFromFilesCommandsAndStandardInput() throws {
        let message = "nested too deeply: blocks, else if, $( ), let chains and conditions nest at most 128 levels"
        let script = try RedkeepBinaryTests.temporaryFile("deep.rk", Self.tooDeepBlocks)
        let runs = [
            ("file", try RedkeepBinaryTests.redkeep([script]), "deep.rk:129:6:"),
            ("-c blocks", try RedkeepBinaryTests.redkeep(["-c", Self.tooDeepBlocks]), "-c:129:6:"),
            ("-c $(", try RedkeepBinaryTests.redkeep(["-c", Self.tooDeepSubstitutions]), "-c:1:\(6 + 128 * 7):"),
            // Less than a pipe's buffer, so that the writer is done before redkeep stops reading.
            ("stdin", try RedkeepBinaryTests.redkeep([], stdin: String(repeating: "if 1 {\n", count: 1_000)), "<stdin>:129:6:"),
        ]
        for (source, run, location) in runs {
            #expect(run.status == 1, "\(source): status \(run.status)")
            #expect(run.err.contains(location) && run.err.contains(message), "\(source): \(run.err.prefix(300))")
        }
    }

    /// A process exits with its code's low 8 bits: `exit 256` used to end redkeep with 0.
    @Test func exitCodesPast255AreAnError() throws {
        let run = try RedkeepBinaryTests.redkeep(["-c", "exit 256"])
        #expect(run.status == 1)
        #expect(run.err.contains("exit takes a code from 0 to 255, not \"256\""), "\(run.err)")
        #expect(try RedkeepBinaryTests.redkeep(["-c", "exit 255"]).status == 255)
    }

    /// Statements with a password after `let NAME =` stay out of a `record` file, which is
    /// created readable by its owner only, and their echo and errors show `<secret>`.
    @Test func recordFilesArePrivateAndHoldNoPassword() throws {
        let folder = NSTemporaryDirectory() + "redkeep-record-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recorded = folder + "/session.rk"
        let session = """
            record \(recorded)
            start m
            option echo on
            let r = ACL SETUSER alice on >PW-s3cret ~* +@all
            let a = AUTH alice PW-s3cret
            let c = CONFIG SET masterauth PW-s3cret
            let w = @m redis AUTH alice wrong-PW-s3cret
            SET visible 1
            record stop
            """
        let run = try RedkeepBinaryTests.redkeep(["--on-error", "continue"], stdin: session + "\n")
        let text = try String(contentsOfFile: recorded, encoding: .utf8)
        #expect(text == "start m\noption echo on\nSET visible 1\n", "\(text)")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: recorded)[.posixPermissions] as? Int)
        #expect(mode == 0o600, "mode \(String(mode, radix: 8))")
        // The echo and the error of the failed AUTH show the statements, less the password.
        #expect(run.out.contains("> let r = ACL SETUSER alice on ><secret> ~* +@all"), "\(run.out)")
        #expect(run.err.contains("WRONGPASS") && run.err.contains("let w = @m redis AUTH alice <secret>"), "\(run.err)")
        #expect(!run.out.contains("PW-s3cret") && !run.err.contains("PW-s3cret"))

        // A file that exists keeps its mode (it may be a script with a #! line).
        let existing = folder + "/existing.rk"
        #expect(FileManager.default.createFile(atPath: existing, contents: Data(), attributes: [.posixPermissions: 0o750]))
        let again = try RedkeepBinaryTests.redkeep([], stdin: "record \(existing)\necho hi\n")
        #expect(again.status == 0, "\(again.err)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "echo hi\n")
        #expect(try FileManager.default.attributesOfItem(atPath: existing)[.posixPermissions] as? Int == 0o750)
    }

    /// Typed at the prompt, statements with a password after `let NAME =` run, and the
    /// history file does not keep them.
    @Test func historyKeepsNoPasswordAfterLet() throws {
        let (pty, history, folder) = try PromptTests.session()
        defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
        try pty.expect("redkeep> ")
        try pty.type("start alpha", expecting: "alpha 127.0.0.1:")
        try pty.type("let r = ACL SETUSER bob on >hunter2-let ~* +@all; echo $r", expecting: "OK")
        try pty.type("let a = AUTH bob hunter2-let; echo $a", expecting: "OK")
        try pty.type("let c = CONFIG SET masterauth hunter2-let; echo $c", expecting: "OK")
        try pty.type("SET visible 1", expecting: "OK")
        pty.send("\u{04}")
        #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
        let kept = try String(contentsOfFile: history, encoding: .utf8)
        #expect(kept.contains("SET visible 1"))
        #expect(!kept.contains("hunter2-let"), "\(kept)")
    }
}
