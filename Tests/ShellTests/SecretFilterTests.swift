import Testing

import Shell

/// Lines that must never reach history or a `record` file, lines that must, and what
/// `redact` shows in their place.
@Suite struct SecretFilterTests {
    @Test(arguments: [
        // AUTH wherever a command can start.
        "AUTH s3cret",
        "AUTH alice s3cret",
        "auth alice s3cret",
        "Auth s3cret",
        "  AUTH s3cret  ",
        "AUTH",
        "GET a; AUTH s3cret",
        "GET a;AUTH s3cret",
        "GET a\nAUTH s3cret",
        "@m AUTH s3cret",
        "@replica1 auth alice s3cret",
        "redis AUTH s3cret",
        "@m redis AUTH s3cret",
        "pipeline { AUTH s3cret; PING }",
        "pipeline {\nAUTH s3cret\n}",
        "multi { SET a 1; auth alice s3cret }",
        "transaction { SET a 1\n AUTH x }",
        "repeat 3 { AUTH s3cret }",
        "echo $(AUTH s3cret)",
        "echo \"value: $(AUTH s3cret)\"",
        "\"AUTH\" s3cret",
        "\\x41UTH s3cret",
        // A command after `let NAME =` (and the other prefixes, in any order).
        "let x = AUTH alice s3cret",
        "let r = ACL SETUSER u on >s3cret",
        "let r = CONFIG SET masterauth s3cret",
        "LET r = config set requirepass s3cret",
        "let r = @m redis AUTH s3cret",
        "@m let r = AUTH s3cret",
        "let a = let b = AUTH s3cret",
        "let h = HELLO 3 AUTH alice s3cret",
        "let m = MIGRATE h 1 k 0 5000 AUTH2 alice s3cret",
        "GET a; let x = AUTH s3cret",
        "repeat 2 { let x = AUTH s3cret }",
        "if $(AUTH s3cret) == OK { echo in }",
        "if 1 { let x = AUTH s3cret }",
        "wait-until $(CONFIG SET masterauth s3cret) == OK",
        "let x = $(ACL SETUSER u >s3cret)",
        "let x AUTH s3cret",
        // HELLO with AUTH.
        "HELLO 3 AUTH alice s3cret",
        "hello 2 auth default s3cret setname ops",
        "@m HELLO 3 AUTH alice s3cret",
        // CONFIG SET of credentials.
        "CONFIG SET requirepass s3cret",
        "config set REQUIREPASS s3cret",
        "CONFIG SET masterauth s3cret",
        "CONFIG SET masteruser replicator",
        "CONFIG SET maxmemory 1gb requirepass s3cret",
        "CONFIG SET requirepass s3cret maxmemory 1gb",
        "CONFIG SET tls-key-file-pass s3cret",
        "@m config set masterauth 's3cret with spaces'",
        // ACL SETUSER with passwords or hashes.
        "ACL SETUSER alice on >s3cret ~* +@all",
        "acl setuser alice on #0b14d501a594442a01c6859541bcb3e8164d183d32937b851835442f69d5c94e",
        "ACL SETUSER alice <old",
        "ACL SETUSER alice !0b14d501a594442a01c6859541bcb3e8164d183d32937b851835442f69d5c94e",
        "ACL SETUSER alice '>s3cret with space'",
        // MIGRATE with AUTH or AUTH2.
        "MIGRATE 10.0.0.2 6379 \"\" 0 5000 AUTH s3cret KEYS a b",
        "migrate 10.0.0.2 6379 key 0 5000 COPY REPLACE auth2 alice s3cret",
        // Sentinel credentials.
        "SENTINEL SET mymaster auth-pass s3cret",
        "SENTINEL CONFIG SET sentinel-pass s3cret",
        // Password options anywhere.
        "connect m 10.0.0.1:6379 --password s3cret",
        "connect m 10.0.0.1:6379 --password=s3cret",
        "connect m 10.0.0.1:6379 \"--password=s3cret\"",
        "connect m 10.0.0.1:6379 --PASSWORD s3cret",
        "shell redis-cli -a s3cret ping",
        "shell redis-cli -h h --pass s3cret",
        "shell redis-server --requirepass s3cret",
        "shell sh -c \"redis-cli -a s3cret ping\"",
        "shell env REDISCLI_AUTH=s3cret redis-cli ping",
        "connect m h:1 --password",
        // URLs with a password.
        "connect m redis://alice:s3cret@10.0.0.1:6379",
        "connect m redis://s3cret@10.0.0.1",
        "connect m redis://:s3cret@10.0.0.1/2",
        "connect m rediss://alice:s3cret@cache.example.com:6380",
        "connect m REDIS://alice:s3cret@h",
        "connect m 'redis://alice:s3cret@h'",
        "connect m redis://alice:p%40ss@h",
        "connect m redis://alice:pa/ss@h",
        "connect m redis://alice:p@ss@h",
        "set url https://bob:hunter2@example.com/x",
        "SET cfg redis://alice:s3cret@h",
        "@m connect n redis://u:p@h:1",
    ])
    func flagsSecrets(_ line: String) {
        #expect(SecretFilter.containsSecret(line), "\(line)")
    }

    @Test(arguments: [
        "SET auth:token x",
        "GET password",
        "GET auth",
        "SET auth s3cret",
        "HSET user:1 password_hash x",
        "HSET user:1 password x",
        "connect m redis://127.0.0.1:6379",
        "connect m redis://127.0.0.1:6379/2",
        "connect m unix:///var/run/redis.sock?db=1",
        "connect m 10.0.0.1:6379 --password-env REDIS_PASSWORD",
        "connect m 10.0.0.1:6379 --password-env=REDIS_PASSWORD",
        "echo authentication",
        "echo auth",
        "echo \"AUTH failed\"",
        "SET k authorized",
        "CONFIG SET maxmemory 1gb",
        "CONFIG GET requirepass",
        "ACL SETUSER alice on nopass ~* +@all",
        "ACL SETUSER alice resetpass",
        "ACL WHOAMI",
        "HELLO 3",
        "HELLO 3 SETNAME auth",
        "MIGRATE 10.0.0.2 6379 auth 0 5000",
        "MIGRATE 10.0.0.2 6379 \"\" 0 5000 KEYS auth auth2",
        "SET {user}:auth 1",
        "pipeline { SET a 1; GET auth }",
        "GET a # AUTH is a command",
        "shell git clone ssh://git@example.com/repo",
        "SET email alice@example.com",
        "SET 'AUTH s3cret' 1",
        "",
        "   ",
        "SET a \"unterminated",
        "echo $(GET auth",
        "LPUSH list --passwords",
        "let auth = GET k",
        "let x = SET auth s3cret",
        "let x = GET password",
        "if $a == AUTH { echo in }",
    ])
    func keepsOrdinaryLines(_ line: String) {
        #expect(!SecretFilter.containsSecret(line), "\(line)")
        #expect(SecretFilter.redact(line) == line)
    }

    @Test(arguments: [
        ("AUTH s3cret", "AUTH <secret>"),
        ("AUTH alice s3cret", "AUTH alice <secret>"),
        ("AUTH alice \"s3 cret\"", "AUTH alice <secret>"),
        ("GET a; auth alice s3cret; GET b", "GET a; auth alice <secret>; GET b"),
        ("pipeline { AUTH s3cret }", "pipeline { AUTH <secret> }"),
        ("HELLO 3 AUTH alice s3cret SETNAME ops", "HELLO 3 AUTH alice <secret> SETNAME ops"),
        ("CONFIG SET requirepass s3cret maxmemory 1gb", "CONFIG SET requirepass <secret> maxmemory 1gb"),
        ("CONFIG SET requirepass a masterauth b", "CONFIG SET requirepass <secret> masterauth <secret>"),
        ("ACL SETUSER alice on >s3cret ~* +@all", "ACL SETUSER alice on ><secret> ~* +@all"),
        ("ACL SETUSER alice '>s3 cret' on", "ACL SETUSER alice '><secret>' on"),
        ("MIGRATE h 1 \"\" 0 5000 AUTH2 alice s3cret KEYS a", "MIGRATE h 1 \"\" 0 5000 AUTH2 alice <secret> KEYS a"),
        ("connect m redis://u:pw@h:1", "connect m redis://u:<secret>@h:1"),
        ("connect m redis://pw@h:1", "connect m redis://<secret>@h:1"),
        ("connect m \"rediss://u:pw@h:1\"", "connect m \"rediss://u:<secret>@h:1\""),
        ("connect m h:1 --password pw", "connect m h:1 --password <secret>"),
        ("connect m h:1 --password=pw", "connect m h:1 --password=<secret>"),
        ("shell redis-cli -a pw ping", "shell redis-cli -a <secret> ping"),
        ("shell sh -c 'redis-cli -a pw ping'", "shell sh -c 'redis-cli -a <secret> ping'"),
        ("echo $(AUTH pw) done", "echo $(AUTH <secret>) done"),
        ("AUTH alice s\\x33cret", "AUTH alice <secret>"),
        ("connect m redis://u:p\\x40w@h", "connect m redis://u:<secret>@h"),
        ("SENTINEL SET m auth-pass pw", "SENTINEL SET m auth-pass <secret>"),
        ("AUTH", "AUTH"),
        ("let x = AUTH alice PW", "let x = AUTH alice <secret>"),
        ("let r = ACL SETUSER u on >PW", "let r = ACL SETUSER u on ><secret>"),
        ("let r = CONFIG SET masterauth PW", "let r = CONFIG SET masterauth <secret>"),
        ("let r = @m redis AUTH PW; GET a", "let r = @m redis AUTH <secret>; GET a"),
        ("if $(AUTH PW) == OK { let y = AUTH u PW }", "if $(AUTH <secret>) == OK { let y = AUTH u <secret> }"),
    ])
    func redactsSecrets(_ line: String, _ expected: String) {
        #expect(SecretFilter.redact(line) == expected)
    }

    @Test func redactedLineHoldsNoPassword() {
        let line = "@m AUTH alice hunter2; connect n redis://bob:hunter2@h --password hunter2"
        let redacted = SecretFilter.redact(line)
        #expect(!redacted.contains("hunter2"))
        #expect(redacted.contains("alice"))
        #expect(redacted.contains("bob"))
    }

    @Test func nonASCIITextSurvivesRedaction() {
        #expect(SecretFilter.redact("SET clé \"€\"; AUTH pässwort") == "SET clé \"€\"; AUTH <secret>")
    }

    /// Random lines from the pieces that matter to the lexer and the rules: never a crash,
    /// a line without secrets is left alone, a redacted line is still known for one, and
    /// redacting twice changes nothing (when quotes are balanced: a lone quote may pair
    /// differently once the text around it changed).
    @Test(arguments: [false, true])
    func randomLinesAreHandledConsistently(loneQuotes: Bool) {
        var pieces = [
            "AUTH", "auth", "HELLO", "3", "CONFIG", "SET", "requirepass", "ACL", "SETUSER", ">pw", "#ab",
            "MIGRATE", "AUTH2", "KEYS", "redis", "@m", "connect", "redis://u:p@h", "rediss://p@h:1/0",
            "--password", "--password=x", "-a", "x", "'q w'", "\"d $(AUTH z) q\"", "$(GET k)", "{", "}",
            ";", "\n", "\\x41", "é", "GET", "k{t}", "=",
        ]
        if loneQuotes { pieces += ["\"", "'", "$(", ")", "\\"] }
        var state: UInt64 = loneQuotes ? 0x9E37_79B9_7F4A_7C15 : 42
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<3000 {
            let line = (0..<(1 + next(8))).map { _ in pieces[next(pieces.count)] }.joined(separator: next(4) == 0 ? "" : " ")
            let redacted = SecretFilter.redact(line)
            if SecretFilter.containsSecret(line) {
                #expect(SecretFilter.containsSecret(redacted), "\(line)")
                if !loneQuotes { #expect(SecretFilter.redact(redacted) == redacted, "\(line)") }
            } else {
                #expect(redacted == line, "\(line)")
            }
        }
    }

    /// An error names the line it happened on and shows it: with any password hidden,
    /// wherever the command stands in the statement.
    @Test func errorEchoesHideThePassword() async {
        for line in ["let x = AUTH alice PW-s3cret", "let r = ACL SETUSER u on >PW-s3cret",
                     "let r = CONFIG SET masterauth PW-s3cret", "echo $(let y = AUTH PW-s3cret)"] {
            // No connection: the statement fails, and its error shows the line.
            let run = await runScript("echo start\n" + line)
            #expect(run.err.contains("test.rk:2:"), "\(run.err)")
            #expect(run.err.contains("<secret>"), "\(run.err)")
            #expect(!run.err.contains("PW-s3cret"), "\(run.err)")
        }
    }

    /// The line under an error is read with the lines a `\` joins it to: the command that
    /// makes a word a password may be on the line before.
    @Test func errorEchoesHideAPasswordContinuedFromTheLineBefore() async {
        let run = await runScript("echo start\nlet r = CONFIG SET masterauth \\\n  PW-s3cret $undefined")
        #expect(run.err.contains("test.rk:3:"), "\(run.err)")
        #expect(run.err.contains("<secret> $undefined"), "\(run.err)")
        #expect(!run.err.contains("PW-s3cret"), "\(run.err)")
        let file = SourceFile(name: "t.rk", text: "AUTH \\\n alice \\\n pw\nGET pw")
        #expect((1...4).map { SecretFilter.redactedLine($0, of: file) } == ["AUTH \\", " alice \\", " <secret>", "GET pw"])
    }
}
