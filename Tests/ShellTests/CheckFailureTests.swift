import Testing

@testable import Shell

/// What a failed `assert` or `wait-until` says, against a redis-server the script starts:
/// the operands' values as checked (each evaluated once), never a password (one set, one
/// read back, one in the message), and a `--timeout` that bounds the whole wait.
@Suite(.serialized) struct CheckFailureTests {
    static let password = "PW-s3cret-check"

    @Test func failedChecksShowNoPassword() async {
        let run = await runScript("""
            start m
            option on-error continue
            assert $(CONFIG SET masterauth \(Self.password)) == NOPE
            wait-until $(CONFIG SET masterauth \(Self.password)) == NOPE --timeout 100ms
            assert $(CONFIG GET masterauth) == x
            assert $(CONFIG GET *) == x
            wait-until $(CONFIG GET master*) == x --timeout 100ms
            let conf = $(CONFIG GET masterauth)
            assert $conf == x "the config is $conf"
            assert "redis://u:\(Self.password)@h:1" == x
            assert $(HELLO 3 AUTH default \(Self.password)) == x
            echo done
            """)
        #expect(run.outcome == .completed, "\(run.err)")
        #expect(run.out.hasSuffix("done\n"), "\(run.out)")
        #expect(!run.err.contains(Self.password), "\(run.err)")
        // Each failure is still said, with what is not secret.
        #expect(run.err.contains("test.rk:3:1: assertion failed (OK == NOPE)"), "\(run.err)")
        #expect(run.err.contains("test.rk:4:1: wait-until gave up after 100ms: the condition is still false (OK == NOPE)"), "\(run.err)")
        #expect(run.err.contains("test.rk:5:1: assertion failed (\"masterauth <secret>\" == x)"), "\(run.err)")
        #expect(run.err.contains("test.rk:9:1: assertion failed: the config is masterauth <secret> (\"masterauth <secret>\" == x)"), "\(run.err)")
        #expect(run.err.contains("test.rk:10:1: assertion failed (redis://u:<secret>@h:1 == x)"), "\(run.err)")
        #expect(run.err.contains("test.rk:11:1: assertion failed"), "\(run.err)")
    }

    /// Errors that quote an argument back hide the statement's passwords in the message,
    /// not only in the line shown under it.
    @Test func errorMessagesQuotingAnArgumentShowNoPassword() async {
        for line in ["chunk run --archive /nonexistent redis://u:\(Self.password)@127.0.0.1:1",
                     "replay-until now --archive /nonexistent --into redis://u:\(Self.password)@127.0.0.1:1",
                     "start m --requirepass \(Self.password)"] {
            let run = await runScript(line)
            #expect(run.outcome.exitCode == 1, "\(line): \(run.outcome)")
            #expect(run.err.contains("<secret>") && !run.err.contains(Self.password), "\(run.err)")
        }
        // At the prompt the message is shown alone: hidden there too.
        let prompt = await runScript("replay-until now --archive /nonexistent --into redis://:\(Self.password)@127.0.0.1:1",
                                     name: "<prompt>", interactive: true)
        #expect(prompt.err.contains("unknown connection redis://:<secret>@127.0.0.1:1"), "\(prompt.err)")
        #expect(!prompt.err.contains(Self.password), "\(prompt.err)")
    }

    /// Showing a failure used to evaluate the operands again: a command ran twice.
    @Test func operandsAreEvaluatedOnceWhenAFailureIsShown() async {
        let run = await runScript("""
            start m
            option on-error continue
            assert $(INCR n) == 5
            assert $(INCR n) == 1 or $(INCR n) == 9
            assert $(INCR n) == 9 and $(INCR never) == 1
            echo $(GET n) $(EXISTS never)
            """)
        #expect(run.err.contains("test.rk:3:1: assertion failed (1 == 5)"), "\(run.err)")
        #expect(run.err.contains("test.rk:4:1: assertion failed (2 == 1 or 3 == 9)"), "\(run.err)")
        #expect(run.err.contains("test.rk:5:1: assertion failed (4 == 9 and (not reached))"), "\(run.err)")
        #expect(run.out.hasSuffix("4 0\n"), "\(run.out)")
    }

    /// `--timeout` bounds the whole wait, a condition that blocks in the server included
    /// (this used to wait for ever: the time limit is what fails then); the next statement
    /// reconnects.
    @Test(.timeLimit(.minutes(1))) func waitUntilTimeoutBoundsABlockingCondition() async {
        let run = await runScript("""
            start m
            option on-error continue
            wait-until $(BLPOP queue 0) --timeout 300ms
            wait-until 0 --timeout 200ms --every 1h
            SET after 1
            echo $(GET after)
            """)
        #expect(run.outcome == .completed, "\(run.err)")
        #expect(run.err.contains("test.rk:3:1: wait-until gave up after 300ms: the condition was still being evaluated, and was stopped"), "\(run.err)")
        #expect(run.err.contains("test.rk:4:1: wait-until gave up after 200ms: the condition is still false (0)"), "\(run.err)")
        #expect(run.out.hasSuffix("1\n"), "\(run.out)")
    }

    @Test(arguments: [
        ("--every 0ms", "--every must be from 1ms to 1h, not 0ms"),
        ("--every 2h", "--every must be from 1ms to 1h, not 2h"),
        ("--timeout 0s", "--timeout must be from 1ms to 168h, not 0s"),
        ("--timeout 8d", "--timeout must be from 1ms to 168h, not 8d"),
        ("--timeout 99999999999999999999", "--timeout takes a duration like 500ms, 5s or 1m, not \"99999999999999999999\""),
    ])
    func waitUntilOptionsAreBounded(_ options: String, _ message: String) async {
        let run = await runScript("wait-until 1 \(options)\necho never")
        #expect(run.outcome.exitCode == 1)
        #expect(run.err.contains("wait-until: " + message), "\(run.err)")
        #expect(run.out.isEmpty)
    }
}
