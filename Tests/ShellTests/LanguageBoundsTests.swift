import Foundation
import Testing

@testable import Shell

/// Numbers the language passes on to the system, and recursion it cannot parse away,
/// stay within bounds.
@Suite struct LanguageBoundsTests {
    /// A process exits with its code's low 8 bits: `exit 256` used to end a script with 0,
    /// success.
    @Test(arguments: ["256", "-1", "65536", "2147483648", "1e3", "x"])
    func exitCodesOutOfRangeAreAnError(_ code: String) async {
        let run = await runScript("exit \(code)\necho after")
        guard case .failed(let error) = run.outcome else {
            Issue.record("exit \(code) gave \(run.outcome)")
            return
        }
        #expect(error.kind == .usage)
        #expect(error.exitCode == 1)
        #expect(run.err.contains("exit takes a code from 0 to 255, not \"\(code)\""), "\(run.err)")
        #expect(!run.out.contains("after"))
    }

    @Test func exitCodesInRangeEndTheScript() async {
        for code: Int32 in [0, 3, 255] {
            let run = await runScript("let c = \(code)\nexit $c\necho after")
            #expect(run.outcome.exitCode == code)
            if case .exit(let given) = run.outcome { #expect(given == code) } else { Issue.record("\(run.outcome)") }
            #expect(!run.out.contains("after"))
        }
    }

    /// A file that sources itself ran deeper and deeper until memory ran out.
    @Test func sourceNestsAtMostSixtyFourFilesDeep() async throws {
        let folder = NSTemporaryDirectory() + "redkeep-source-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "echo level\nsource self.rk\n".write(toFile: folder + "/self.rk", atomically: true, encoding: .utf8)
        let run = await runScript("source self.rk", name: folder + "/main.rk")
        guard case .failed(let error) = run.outcome else {
            Issue.record("a file sourcing itself gave \(run.outcome)")
            return
        }
        #expect(error.message.contains("source nests at most 64 files deep"), "\(error)")
        #expect(run.out.components(separatedBy: "level\n").count - 1 == SourceNesting.limit)
    }
}
