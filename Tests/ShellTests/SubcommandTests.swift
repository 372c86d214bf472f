import Testing

@testable import Shell

/// Commands made of subcommands (`aof status|setup|check`, `market`, `benchmark`): parsed,
/// validated and explained by ArgumentParser, and completed from its declarations.
@Suite struct SubcommandTests {
    @Test func helpExplainsAGroupAndEachSubcommand() async {
        let group = await runScript("help aof")
        #expect(group.outcome == .completed)
        #expect(group.out.contains("SUBCOMMANDS:") && group.out.contains("check"), "\(group.out)")
        let check = await runScript("help aof check")
        #expect(check.outcome == .completed)
        #expect(check.out.contains("USAGE: aof check <path> [--fix] [--output <output>]"), "\(check.out)")
        let viaFlag = await runScript("aof check --help")
        #expect(viaFlag.out == check.out)
        let viaHelpWord = await runScript("aof help check")
        #expect(viaHelpWord.out.contains("USAGE: aof check <path>"), "\(viaHelpWord.out)")
        let missing = await runScript("help aof nope")
        #expect(missing.outcome.exitCode == 1)
        #expect(missing.err.contains("aof has no subcommand nope: it has status, setup, check"), "\(missing.err)")
    }

    @Test func usageErrorsNameTheSubcommand() async {
        let bare = await runScript("aof")
        #expect(bare.outcome.exitCode == 1)
        #expect(bare.err.contains("aof needs a subcommand: status, setup, check"), "\(bare.err)")
        let noPath = await runScript("aof check")
        #expect(noPath.outcome.exitCode == 1)
        #expect(noPath.err.contains("aof check: Missing expected argument '<path>'"), "\(noPath.err)")
        #expect(noPath.err.contains("usage: aof check <path> [--fix] [--output <output>]"), "\(noPath.err)")
        // validate(): --output without --fix.
        let output = await runScript("aof check /tmp/x --output /tmp/y")
        #expect(output.err.contains("aof check: --output goes with --fix"), "\(output.err)")
        // An option of another subcommand is unknown here.
        let misplaced = await runScript("aof status --fix")
        #expect(misplaced.outcome.exitCode == 1)
        #expect(misplaced.err.contains("aof status: Unknown option '--fix'"), "\(misplaced.err)")
        let mode = await runScript("benchmark update-token --modes plain,fast")
        #expect(mode.outcome.exitCode == 1)
        #expect(mode.err.contains("--modes"), "\(mode.err)")
    }

    @Test func completionOffersDeclaredSubcommandsOptionsAndValues() {
        let snapshot = CompletionSnapshot()
        #expect(snapshot.candidates(before: "aof ", word: "") == ["check", "setup", "status"])
        #expect(snapshot.candidates(before: "aof check x ", word: "--") == ["--fix", "--output"])
        #expect(snapshot.candidates(before: "aof setup ", word: "--t") == ["--timeout", "--timestamps"])
        #expect(snapshot.candidates(before: "@m aof ", word: "s") == ["setup", "status"])
        #expect(snapshot.candidates(before: "benchmark update-token --modes ", word: "p") == ["pipeline", "plain"])
        #expect(snapshot.candidates(before: "benchmark commands ", word: "-") == ["-P", "-c", "-n"])
        #expect(snapshot.candidates(before: "help ", word: "replay-") == ["replay-until"])
        #expect(snapshot.candidates(before: "help market ", word: "") == ["contend", "reset", "show"])
        // What help-text scraping used to offer, and the parser never accepted.
        let replay = snapshot.candidates(before: "replay-until -10m ", word: "--")
        #expect(replay.contains("--into") && replay.contains("--overwrite-source") && replay.contains("--write-aof"), "\(replay)")
        #expect(!replay.contains("--into:") && !replay.contains("--rdb") && !replay.contains("--force."), "\(replay)")
        #expect(snapshot.candidates(before: "replay-until now ", word: "--f") == ["--flush"])
        let save = snapshot.candidates(before: "save ", word: "--")
        #expect(save == ["--blocking", "--copy-to", "--over-replication", "--timeout"])
        for command in CommandRegistry.declarations.keys {
            for name in snapshot.candidates(before: "\(command) ", word: "--") {
                #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }, "\(command) offers \(name)")
            }
        }
    }

    @Test func aMisspeltWordGetsTheNearestRedkeepWord() async {
        #expect(WordSuggestion.nearest(to: "replay-untill") == "replay-until")
        #expect(WordSuggestion.nearest(to: "conect") == "connect")
        #expect(WordSuggestion.nearest(to: "GET") == nil)
        #expect(WordSuggestion.nearest(to: "zzzzzzzz") == nil)
        let help = await runScript("help replay-untill")
        #expect(help.out.contains("replay-untill is not a redkeep word; did you mean replay-until?"), "\(help.out)")
    }
}
