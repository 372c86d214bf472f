import Foundation
import Testing

@testable import Shell

@Suite struct TimeTextTests {
    @Test func acceptsTheFormsPeopleWrite() throws {
        #expect(TimeText.parse("@1795268554") == .seconds(1795268554))
        #expect(TimeText.parse("now") == .now)
        #expect(TimeText.parse("-10m", now: 10_000) == .seconds(9_400))
        #expect(TimeText.parse("-2h", now: 10_000) == .seconds(2_800))
        // With a zone, the zone wins; without one, local time.
        #expect(TimeText.parse("2026-11-20T15:12:01Z") == .seconds(1795187521))
        #expect(TimeText.parse("2026-11-20T16:12:01+01:00") == .seconds(1795187521))
        #expect(TimeText.parse("2026-11-20 16:12:01 +0100") == .seconds(1795187521))
        let local = try #require(DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: .current,
                                                year: 2026, month: 11, day: 20, hour: 15, minute: 12, second: 1).date)
        #expect(TimeText.parse("2026-11-20 15:12:01") == .seconds(local.timeIntervalSince1970))
        #expect(TimeText.parse("2026-11-20T15:12:01") == .seconds(local.timeIntervalSince1970))
    }

    @Test func refusesTheRest() {
        for text in ["yesterday", "15:12", "@abc", "-10x", "2026-13-40 99:00:00", ""] {
            #expect(TimeText.parse(text) == nil, "\(text)")
        }
    }

    @Test func replayUntilExplainsBadUsage() async {
        let noTarget = await runScript("replay-until --archive /nonexistent --dry-run")
        #expect(noTarget.outcome.exitCode == 1 && noTarget.err.contains("TIME"))
        let badTime = await runScript("replay-until yesterday --archive /nonexistent --dry-run")
        #expect(badTime.outcome.exitCode == 1 && badTime.err.contains("is not a time"))
        let two = await runScript("replay-until now --archive /x --into a --write-aof /y")
        #expect(two.outcome.exitCode == 1 && two.err.contains("exactly one"))
        let missing = await runScript("replay-until now --archive /nonexistent-archive --dry-run")
        #expect(missing.outcome.exitCode == 3 && missing.err.contains("not a redkeep archive"))
        let verify = await runScript("archive verify /nonexistent-archive")
        #expect(verify.outcome.exitCode == 3)
    }
}

/// Times that must never trap later (Double to Int64) and relative times given as words.
@Suite struct TimeTextBoundsTests {
    @Test func hugeAndNegativeTimesAreClearErrors() {
        for text in ["@99999999999999999999", "@-1", "@1e300", "@inf", "-99999999999d", "10000-01-01"] {
            #expect(TimeText.parse(text) == nil, "\(text)")
        }
        #expect(throws: TimeTextError.self) { try TimeText.check("@99999999999999999999") }
        do {
            _ = try TimeText.check("@99999999999999999999")
        } catch {
            #expect(error.message.contains("outside the times accepted"), "\(error.message)")
        }
        #expect(TimeText.parse("@253402300799") == .seconds(253_402_300_799))
    }

    @Test func relativeTimesSurviveArgumentParsing() {
        #expect(TimeText.parse("now-10m", now: 10_000) == .seconds(9_400))
        #expect(TimeText.protectingRelativeTimes(["-10m", "--from", "-2h", "-5", "-x", "--window", "-1.5h"])
                == ["now-10m", "--from", "now-2h", "-5", "-x", "--window", "now-1.5h"])
    }
}
