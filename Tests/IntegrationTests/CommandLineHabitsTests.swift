import Foundation
import Operations
import RedisClient
import Testing

/// The redkeep executable with redis-cli's habits: -h/-p/-a/-n/--user/--askpass,
/// REDISCLI_AUTH, the default 127.0.0.1:6379 connection, completion scripts, a misspelt
/// word's suggestion; and the run's own hygiene: the password scrubbed from argv, history
/// under $HOME, the Lab's folders removed on SIGTERM and SIGHUP, `stop` of a kept server
/// or object store.
@Suite struct CommandLineHabitsTests {
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> RedkeepBinaryTests.Run {
        try RedkeepBinaryTests.redkeep(arguments, stdin: stdin, environment: environment)
    }

    static let password = "pw-\(UUID().uuidString.prefix(8))"

    /// A Lab server that then requires ``password`` (the Lab's start waits for a PING
    /// without one, so it is set afterwards).
    static func serverWithPassword(_ lab: Lab) async throws -> LocalServer {
        let server = try await lab.start("m")
        let connection = try await RedisConnection.connect(server.connectionConfiguration)
        try await connection.configSet("requirepass", password)
        await connection.close()
        return server
    }

    @Test func redisCliConnectionOptions() async throws {
        try await withLab { lab in
            let server = try await Self.serverWithPassword(lab)
            let port = "\(server.port)"
            let flags = try Self.run(["-h", "127.0.0.1", "-p", port, "-a", Self.password, "-n", "3", "--user", "default",
                                      "-c", "CLIENT INFO"])
            #expect(flags.status == 0, "\(flags.err)")
            #expect(flags.out.contains("db=3") && flags.out.contains("user=default"), "\(flags.out)")
            #expect(flags.err.contains("Warning: Using a password with '-a'"), "\(flags.err)")
            #expect(!flags.err.contains(Self.password) && !flags.out.contains(Self.password))

            let environment = try Self.run(["-p", port, "-c", "PING"], environment: ["REDISCLI_AUTH": Self.password])
            #expect(environment.status == 0 && environment.out == "PONG\n", "\(environment.err)")
            #expect(!environment.err.contains("Warning"))

            let asked = try Self.run(["--askpass", "-p", port, "-c", "PING"], stdin: Self.password + "\n")
            #expect(asked.status == 0 && asked.out == "PONG\n", "\(asked.err)")
            #expect(asked.err.contains("Please input password: "))

            let wrong = try Self.run(["-p", port, "-a", "not-it", "-c", "PING"])
            #expect(wrong.status == 2, "\(wrong.err)")

            // -h is the host, as in redis-cli; --help stays help.
            let h = try Self.run(["-h"])
            #expect(h.status == 1 && h.err.contains("Missing value for '-h <host>'"), "\(h.err)")
            let help = try Self.run(["--help"])
            #expect(help.status == 0 && help.out.contains("-h, --host <host>"), "\(help.out)")
            let badPort = try Self.run(["-p", "70000", "-c", "PING"])
            #expect(badPort.status == 1 && badPort.err.contains("--port must be from 1 to 65535, not 70000"), "\(badPort.err)")
        }
    }

    @Test func aRedisCommandAfterTheOptionsIsSentAsRedisCliSendsIt() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let port = "\(server.port)"
            let set = try Self.run(["-p", port, "-n", "5", "SET", "quoted key", "it's \"here\" $HOME"])
            #expect(set.status == 0 && set.out == "OK\n", "\(set.out) \(set.err)")
            let get = try Self.run(["-p", port, "-n", "5", "GET", "quoted key"])
            #expect(get.status == 0 && get.out == "it's \"here\" $HOME\n", "\(get.out) \(get.err)")
            // A word redkeep shadows goes to Redis, as redis-cli sends it.
            let echo = try Self.run(["-p", port, "ECHO", "hello"])
            #expect(echo.status == 0 && echo.out == "hello\n", "\(echo.out) \(echo.err)")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["SELECT", "5"])
            #expect(try await c.send(["GET", "quoted key"]) == .bulk("it's \"here\" $HOME"))
            await c.close()
            // A path or a .rk name is still a script.
            let missing = try Self.run(["-p", port, "missing.rk"])
            #expect(missing.status != 0 && missing.err.contains("cannot read the script missing.rk"), "\(missing.err)")
        }
    }

    @Test func aRedisCommandWithNoConnectionGoesToTheDefaultAddress() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let run = try Self.run(["-c", "SET a 1; GET a"], environment: ["REDKEEP_DEFAULT_ADDRESS": "127.0.0.1:\(server.port)"])
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out == "OK\n1\n")
            #expect(run.err.contains("no connection was open: connected to 127.0.0.1:\(server.port) as default"), "\(run.err)")
            // Empty: no default, the old error.
            let none = try Self.run(["-c", "GET a"], environment: ["REDKEEP_DEFAULT_ADDRESS": ""])
            #expect(none.status == 1 && none.err.contains("no connection"), "\(none.err)")
        }
        // Unset, the default is redis-cli's, 127.0.0.1:6379: reached if a server listens
        // there, named in the error if none does.
        var environment = ProcessInfo.processInfo.environment
        environment["REDKEEP_DEFAULT_ADDRESS"] = nil
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedkeepBinaryTests.binary)
        process.arguments = ["-c", "PING"]
        process.environment = environment
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let said = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(said.contains("127.0.0.1:6379"), "\(process.terminationStatus): \(said)")
    }

    @Test func aMisspeltWordSuggestsTheRedkeepWord() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let run = try Self.run(["-p", "\(server.port)", "-c", "replay-untill -10m --archive x"])
            #expect(run.status == 3)
            #expect(run.err.contains("ERR unknown command") && run.err.contains("did you mean replay-until?"), "\(run.err)")
            // A real Redis command that fails is not given a suggestion.
            let real = try Self.run(["-p", "\(server.port)", "-c", "INCR"])
            #expect(!real.err.contains("did you mean"), "\(real.err)")
            // No server to ask (nothing listens at the default address): still suggested.
            let offline = try Self.run(["-c", "replay-untill -10m --archive x"], environment: ["REDKEEP_DEFAULT_ADDRESS": "127.0.0.1:1"])
            #expect(offline.status == 2 && offline.err.contains("127.0.0.1:1") && offline.err.contains("did you mean replay-until?"), "\(offline.err)")
        }
    }

    @Test func completionScriptsForEachShell() throws {
        for (shell, marker) in [("bash", "-F _redkeep redkeep"), ("zsh", "#compdef redkeep"), ("fish", "complete -c 'redkeep'")] {
            let run = try Self.run(["--generate-completion-script", shell])
            #expect(run.status == 0, "\(shell): \(run.err)")
            #expect(run.out.contains(marker), "\(shell): \(run.out.prefix(300))")
            #expect(!run.out.contains("USAGE:"), "\(shell) printed the help")
            #expect(run.out.contains("askpass"), "\(shell)")
        }
    }

    @Test(.timeLimit(.minutes(2))) func thePasswordIsScrubbedFromTheCommandLine() async throws {
        try await withLab { lab in
            let server = try await Self.serverWithPassword(lab)
            let cmdline = try await Self.commandLineWhileBlocked(server, ["-p", "\(server.port)", "-a", Self.password, "-c", "BLPOP never 0"])
            #expect(cmdline.contains("-a\0****"), "\(cmdline.debugDescription)")
            #expect(!cmdline.contains(Self.password), "\(cmdline.debugDescription)")
        }
    }

    /// `-u redis://user:PASS@host:port`: only the password's bytes are blanked; the user,
    /// host and port stay readable in ps.
    @Test(.timeLimit(.minutes(2))) func theURLPasswordIsScrubbedFromTheCommandLine() async throws {
        try await withLab { lab in
            let server = try await Self.serverWithPassword(lab)
            let url = "redis://default:\(Self.password)@127.0.0.1:\(server.port)"
            let stars = String(repeating: "*", count: Self.password.utf8.count)
            for arguments in [["-u", url, "-c", "BLPOP never 0"], ["--url=\(url)", "-c", "BLPOP never 0"]] {
                let cmdline = try await Self.commandLineWhileBlocked(server, arguments)
                #expect(!cmdline.contains(Self.password), "\(cmdline.debugDescription)")
                #expect(cmdline.contains("redis://default:\(stars)@127.0.0.1:\(server.port)"), "\(cmdline.debugDescription)")
            }
        }
    }

    /// Passwords typed in `-c` statements (a `connect` URL, `CONFIG SET masterauth`) are
    /// blanked in place as the history filter finds them; the rest of the text stays.
    @Test(.timeLimit(.minutes(2))) func passwordsInCommandTextAreScrubbedFromTheCommandLine() async throws {
        try await withLab { lab in
            let server = try await Self.serverWithPassword(lab)
            let other = "Other-\(Self.password)-2"
            let script = "CONFIG SET masterauth \(other); connect second redis://default:\(Self.password)@127.0.0.1:\(server.port); BLPOP never 0"
            let cmdline = try await Self.commandLineWhileBlocked(server, ["-p", "\(server.port)", "-a", Self.password, "-c", script])
            #expect(!cmdline.contains(Self.password), "\(cmdline.debugDescription)")
            let stars = String(repeating: "*", count: Self.password.utf8.count)
            #expect(cmdline.contains("CONFIG SET masterauth \(String(repeating: "*", count: other.utf8.count)); connect second redis://default:\(stars)@127.0.0.1:\(server.port); BLPOP never 0"),
                    "\(cmdline.debugDescription)")
        }
    }

    /// redkeep ended before blocking: the arguments were not understood or the connection failed.
    struct ExitedEarly: Error { let status: Int32; let arguments: Int }

    /// Runs redkeep with `arguments` until its `BLPOP never 0` blocks on `server` (by then
    /// it has long parsed, and scrubbed, its arguments) and returns its /proc cmdline.
    static func commandLineWhileBlocked(_ server: LocalServer, _ arguments: [String]) async throws -> String {
        var probeSettings = server.connectionConfiguration
        probeSettings.password = RedisSecret(Self.password)
        let probe = try await RedisConnection.connect(probeSettings)
        defer { Task { await probe.close() } }
        // A redkeep of an earlier call may still be counted until the server sees it gone.
        while try await probe.info("clients").int("blocked_clients") != 0 { try await Task.sleep(for: .milliseconds(20)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedkeepBinaryTests.binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        while try await probe.info("clients").int("blocked_clients") != 1 {
            guard process.isRunning else { throw ExitedEarly(status: process.terminationStatus, arguments: arguments.count) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(process.processIdentifier)/cmdline")), as: UTF8.self)
    }

    /// A prompt session with HOME set and no REDKEEP_HISTFILE.
    static func prompt(home: String) throws -> PseudoTerminal {
        var environment = ProcessInfo.processInfo.environment.merging([
            "HOME": home, "TERM": "xterm", "NO_COLOR": "1", "INPUTRC": "/dev/null", "REDKEEP_DEFAULT_ADDRESS": "",
        ]) { $1 }
        environment["REDKEEP_HISTFILE"] = nil
        return try PseudoTerminal(RedkeepBinaryTests.binary, [], environment: environment)
    }

    /// A prompt session in a new, empty home folder, once its prompt is shown.
    static func promptInNewHome() throws -> (PseudoTerminal, home: String) {
        let home = NSTemporaryDirectory() + "redkeep-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let pty = try prompt(home: home)
        try pty.expect("redkeep> ")
        return (pty, home)
    }

    @Test func historyGoesUnderHome() throws {
        let (pty, home) = try Self.promptInNewHome()
        defer { pty.terminate(); try? FileManager.default.removeItem(atPath: home) }
        try pty.type("echo remembered-line", expecting: "remembered-line")
        pty.send("\u{04}")
        #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
        let kept = try String(contentsOfFile: home + "/.redkeep_history", encoding: .utf8)
        #expect(kept.contains("echo remembered-line"))
    }

    @Test(.timeLimit(.minutes(2)), arguments: [SIGTERM, SIGHUP]) func aSignalRemovesTheLabFolders(_ signal: Int32) throws {
        let (pty, home) = try Self.promptInNewHome()
        defer { pty.terminate(); try? FileManager.default.removeItem(atPath: home) }
        try pty.type("start sig", expecting: "sig 127.0.0.1:")
        pty.send("let d = CONFIG GET dir; echo dir=${d[1]}\r")
        _ = try pty.expect("dir=/")
        let directory = "/" + (try pty.expect("\n")).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(directory.hasSuffix("/sig") && FileManager.default.fileExists(atPath: directory), "\(directory)")
        try pty.expect("> ")
        kill(pty.pid, signal)
        #expect(try pty.waitForExit(timeout: .seconds(30)) == 128 + signal)
        let lab = (directory as NSString).deletingLastPathComponent
        #expect(!FileManager.default.fileExists(atPath: lab), "\(lab) outlived signal \(signal)")
    }

    /// Runs `redkeep --keep -c statements`, which echo `pid=N` and `dir=PATH`, and returns
    /// them once that run has ended. On a pseudo-terminal, not through Foundation's
    /// Process: what a kept process inherits includes the descriptors Process watches to
    /// see its child end, so Process would wait for the kept process too.
    static func keptRun(_ statements: String, environment: [String: String]) throws -> (pid: pid_t, directory: String) {
        let pty = try PseudoTerminal(RedkeepBinaryTests.binary, ["--keep", "-c", statements], environment: environment)
        defer { pty.terminate() }
        _ = try pty.expect("pid=", timeout: .seconds(60))
        let pidText = try pty.expect("\n").trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try pty.expect("dir=")
        let directory = try pty.expect("\n").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try pty.waitForExit(timeout: .seconds(60)) == 0)
        return (try #require(pid_t(pidText), "pid=\(pidText) dir=\(directory)"), directory)
    }

    @Test(.timeLimit(.minutes(2))) func stopFindsAServerAKeptRunLeft() throws {
        let (pid, directory) = try Self.keptRun("start kept; let i = INFO server; echo pid=${i.process_id}; let d = CONFIG GET dir; echo dir=${d[1]}",
                                                environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        #expect(directory.hasSuffix("/kept"), "\(directory)")
        defer {
            kill(pid, SIGKILL)
            try? FileManager.default.removeItem(atPath: (directory as NSString).deletingLastPathComponent)
        }
        #expect(kill(pid, 0) == 0, "the kept server is not running")
        let stop = try Self.run(["-c", "stop kept"])
        #expect(stop.status == 0, "\(stop.err)")
        #expect(stop.out.contains("earlier --keep run") && stop.out.contains(directory), "\(stop.out)")
        #expect(!KeptServer.isAlive(pid), "server \(pid) still runs")
        // Nothing of that name runs any more: stop says so.
        let again = try Self.run(["-c", "stop kept"])
        #expect(again.status == 3 && again.err.contains("no local server called kept"), "\(again.err)")
    }

    @Test(.timeLimit(.minutes(3))) func stopFindsAnObjectStoreAKeptRunLeft() throws {
        // The store's identities file is in its folder.
        let (pid, secretFile) = try Self.keptRun("let s = start keptstore --s3; echo pid=${s.pid}; echo dir=${s.secret_file}",
                                                 environment: S3ShellTests.cleanEnvironment(["NO_COLOR": "1"]))
        let folder = (secretFile as NSString).deletingLastPathComponent
        #expect(folder.hasSuffix("/keptstore"), "\(folder)")
        defer {
            kill(pid, SIGKILL)
            try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent)
        }
        #expect(KeptServer.isAlive(pid), "the kept object store is not running")
        // Its gRPC sockets, which weed leaves in /tmp by port, go with it.
        let arguments = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let grpc = try #require(arguments.first { $0.hasPrefix("-master.port.grpc=") }?.split(separator: "=").last)
        let socket = "/tmp/seaweedfs-master-grpc-\(grpc).sock"
        #expect(FileManager.default.fileExists(atPath: socket), "weed made no \(socket)")

        let stop = try Self.run(["-c", "stop keptstore"])
        #expect(stop.status == 0, "\(stop.err)")
        #expect(stop.out.contains("kind:object store") && stop.out.contains("earlier --keep run") && stop.out.contains(folder), "\(stop.out)")
        #expect(!KeptServer.isAlive(pid), "object store \(pid) still runs")
        #expect(!FileManager.default.fileExists(atPath: socket), "\(socket) outlived the store")
        #expect(FileManager.default.fileExists(atPath: secretFile), "the kept store's folder was removed")
        let again = try Self.run(["-c", "stop keptstore"])
        #expect(again.status == 3 && again.err.contains("no local server called keptstore"), "\(again.err)")
    }
}
