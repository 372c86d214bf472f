import Testing

@testable import Shell

/// `archive drill`'s options are bounded and checked before anything connects.
@Suite struct ArchiveDrillCommandTests {
    @Test func outOfBoundsOptionsAreUsageErrors() async {
        let pause = await runScript("archive drill /tmp/nowhere --max-pause 90s")
        #expect(pause.outcome.exitCode == 1)
        #expect(pause.err.contains("--max-pause takes a duration from 10ms to 60s"), "\(pause.err)")
        let short = await runScript("archive drill /tmp/nowhere --max-pause 1ms")
        #expect(short.err.contains("--max-pause takes a duration from 10ms to 60s"), "\(short.err)")
        let timeout = await runScript("archive drill /tmp/nowhere --timeout 2d")
        #expect(timeout.err.contains("--timeout takes a duration from 1s to 24h"), "\(timeout.err)")
        let show = await runScript("archive drill /tmp/nowhere --show 1001")
        #expect(show.outcome.exitCode == 1)
        #expect(show.err.contains("--show must be from 1 to 1000"), "\(show.err)")
        let keep = await runScript("archive drill /tmp/nowhere --into other --keep")
        #expect(keep.err.contains("--keep is for the fresh local server"), "\(keep.err)")
        let flush = await runScript("archive drill /tmp/nowhere --flush")
        #expect(flush.err.contains("--flush is for --into"), "\(flush.err)")
    }

    @Test func helpExplainsTheDrill() async {
        let help = await runScript("help archive drill")
        #expect(help.outcome == .completed)
        #expect(help.out.contains("CLIENT PAUSE WRITE") && help.out.contains("--max-pause"), "\(help.out)")
        #expect(help.out.contains("every step included"), "\(help.out)")
        let group = await runScript("help archive")
        #expect(group.out.contains("drill"), "\(group.out)")
    }
}
