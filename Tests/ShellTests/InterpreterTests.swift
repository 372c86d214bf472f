import Testing

@testable import Shell

/// The language without a server: variables, control flow, conditions, errors, exit codes.
@Suite struct InterpreterTests {
    @Test func letEchoAndSubstitution() async {
        let run = await runScript("""
            let who = world
            let greeting = "hello $who"
            echo $greeting, ${who}!
            echo '$who stays literal'
            """)
        #expect(run.outcome == .completed)
        #expect(run.out == "hello world, world!\n$who stays literal\n")
    }

    @Test func scriptArguments() async {
        let run = await runScript("echo $# $1 $2", arguments: ["s.rk", "alpha", "beta"])
        #expect(run.out == "2 alpha beta\n")
        let missing = await runScript("echo $3", arguments: ["s.rk", "a"])
        #expect(missing.outcome.exitCode == 3)
        #expect(missing.err.contains("$3 is not set: the script got 1 argument(s)"))
    }

    @Test func ifRepeatFor() async {
        let run = await runScript("""
            let n = 2
            if $n == 1 { echo one } else if $n == 2 { echo two } else { echo many }
            repeat $n { echo again }
            for x in a "b c" d { echo item $x }
            if not exists undefined and ( $n >= 2 or 0 ) { echo conditions }
            if abc contains b and user:42 matches "user:*" { echo patterns }
            if 10 > 9 { echo numeric } ; if 10 > 9a { echo never } else { echo text }
            """)
        #expect(run.outcome == .completed, "\(run.err)")
        #expect(run.out == "two\nagain\nagain\nitem a\nitem b c\nitem d\nconditions\npatterns\nnumeric\ntext\n")
    }

    @Test func assertFailsWithExitThreeAndTheValues() async {
        let run = await runScript("let a = 5\nassert $a < 3 \"a must be small\"\necho never")
        #expect(run.outcome.exitCode == 3)
        #expect(run.out == "")
        #expect(run.err.contains("test.rk:2:1: assertion failed: a must be small (5 < 3)"))
        #expect(run.err.contains("    assert $a < 3 \"a must be small\"\n    ^"))
    }

    @Test func undefinedVariableNamesItsPlace() async {
        let run = await runScript("echo ok\n  echo ${missing.field}")
        #expect(run.outcome.exitCode == 3)
        #expect(run.out == "ok\n")
        #expect(run.err.contains("test.rk:2:8: undefined variable $missing"))
    }

    @Test func onErrorContinueGoesOn() async {
        let run = await runScript("option on-error continue\necho $nope\necho after")
        #expect(run.outcome == .completed)
        #expect(run.out == "after\n")
        #expect(run.err.contains("undefined variable $nope"))
    }

    @Test func valuesAndErrorsComeOutInTheirOrder() async {
        let output = CapturedOutput()
        let interpreter = Interpreter(Interpreter.Configuration(output: output, continueOnError: true, arguments: ["t.rk"]))
        let outcome = await interpreter.run("echo one\nGET k\necho two\nrepeat 2 { echo three }\nGET k", name: "t.rk")
        await interpreter.shutdown(keepServers: false)
        #expect(outcome == .completed)
        let error = "(error) t.rk:2:1: no connection: use connect NAME ADDRESS, or start NAME for a local server\n"
        let expected = "one\n" + error + "    GET k\n    ^\n" + "two\nthree\nthree\n"
        #expect(output.interleaved.hasPrefix(expected), "\(output.interleaved)")
        #expect(output.interleaved.hasSuffix("GET k\n    ^\n"), "\(output.interleaved)")
    }

    @Test func exitCodes() async {
        #expect(await runScript("exit 7\necho never").outcome.exitCode == 7)
        #expect(await runScript("repeat 2 { exit 4 }").outcome.exitCode == 4)
        #expect(await runScript("SET k \"unterminated").outcome.exitCode == 1)
        #expect(await runScript("connect --nope").outcome.exitCode == 1)
        #expect(await runScript("connect x 127.0.0.1:1").outcome.exitCode == 2)
        #expect(await runScript("GET k").outcome.exitCode == 1)  // no connection: a usage error
        #expect(await runScript("exit soon").outcome.exitCode == 1)
    }

    @Test func noConnectionSaysWhatToDo() async {
        let run = await runScript("GET k")
        #expect(run.err.contains("no connection: use connect NAME ADDRESS, or start NAME for a local server"))
        let unknown = await runScript("@ghost GET k")
        #expect(unknown.err.contains("unknown connection ghost (none yet)"))
    }

    @Test func waitUntilTimesOut() async {
        let run = await runScript("let x = 1\nwait-until $x == 2 --timeout 200ms --every 20ms")
        #expect(run.outcome.exitCode == 3)
        #expect(run.err.contains("wait-until gave up after 200ms: the condition is still false (1 == 2)"))
        let ok = await runScript("let x = 2\nwait-until $x == 2 --timeout 1s\necho done")
        #expect(ok.out == "done\n")
    }

    @Test func optionsAndUsageErrors() async {
        let run = await runScript("option output yaml")
        #expect(run.err.contains("option output takes human, raw or json, not \"yaml\""))
        let sleep = await runScript("sleep forever")
        #expect(sleep.err.contains("sleep takes a duration like 250ms, 2s or 1m, not \"forever\""))
        let transaction = await runScript("transaction { echo x }")
        #expect(transaction.err.contains("transaction needs keys to watch"))
        let abort = await runScript("abort \"why\"")
        #expect(abort.outcome.exitCode != 0)
    }

    @Test func jsonOutput() async {
        let run = await runScript("help connect", mode: .json)
        #expect(run.out.hasPrefix("\""))
        let values = await runScript("let r = connections\necho ok", mode: .json)
        #expect(values.out == "ok\n")
    }

    @Test func helpListsWordsAndShadowedCommands() async {
        let run = await runScript("help")
        for word in ["let", "if", "pipeline", "transaction", "connect", "start", "crash", "help"] {
            #expect(run.out.contains("\n  \(word) "), "help lacks \(word)")
        }
        #expect(run.out.contains("Redis commands shadowed by redkeep words (send them with redis CMD): ECHO"))
        let connect = await runScript("help connect")
        #expect(connect.out.contains("--password-env"))
        let redisWord = await runScript("help GETRANGE")
        #expect(redisWord.out.contains("GETRANGE is not a redkeep word"))
    }

    @Test func atPromptErrorsDoNotStopTheSession() async {
        let run = await runScript("echo $nope\necho after", name: "<prompt>", interactive: true)
        #expect(run.outcome == .completed)
        #expect(run.out == "after\n")
        #expect(run.err == "(error) undefined variable $nope\n")
    }
}
