import Foundation
import Operations
import Shell

/// One run of redkeep: sets up the interpreter, connects first if asked, runs the prompt,
/// a script, -c or piped statements, and stops the servers it started (unless --keep).
struct Session {
    let options: CommandLineOptions
    let interpreter: Interpreter
    let interactive: Bool
    /// Standard output and error, kept here to be flushed when a signal ends the run.
    let output = StandardOutput()
    /// True when -a or --askpass gave the first connection's password.
    let firstPasswordGiven: Bool

    init(_ options: CommandLineOptions) {
        self.options = options
        let terminal = isatty(STDOUT_FILENO) == 1
        interactive = options.command == nil && options.script.isEmpty && isatty(STDIN_FILENO) == 1
        var configuration = Interpreter.Configuration(output: output)
        configuration.outputMode = options.json ? .json : (options.raw || !terminal ? .raw : .human)
        configuration.color = terminal && configuration.outputMode == .human && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        configuration.echo = options.echo
        configuration.continueOnError = options.onError == "continue"
        configuration.interactive = interactive
        configuration.arguments = options.script.isEmpty ? ["redkeep"] : options.script
        // As redis-cli: with no connection open a Redis command goes to 127.0.0.1:6379.
        let environment = ProcessInfo.processInfo.environment
        let defaultAddress = environment["REDKEEP_DEFAULT_ADDRESS"] ?? "127.0.0.1:6379"
        configuration.defaultAddress = defaultAddress.isEmpty ? nil : defaultAddress
        // -a / --askpass: the password reaches `connect` through the environment the
        // interpreter reads, never through a statement's text.
        if let password = options.password {
            configuration.environment[CommandLinePassword.variable] = password
        } else if options.askpass, let password = CommandLinePassword.ask() {
            configuration.environment[CommandLinePassword.variable] = password
        }
        firstPasswordGiven = configuration.environment[CommandLinePassword.variable] != nil
        interpreter = Interpreter(configuration)
    }

    /// Runs and returns the exit code.
    func run() -> Int32 {
        // The options are parsed: hide the passwords of -a, -u URLs and -c statements from
        // ps (the -a one is hidden already, after redis-cli's warning; this is idempotent).
        CommandLinePassword.scrub()
        installSignalHandlers()
        let interpreter = self.interpreter
        // Quietly, as redis-cli connects: the connection's report would come before the
        // output of every -c and script.
        let first = Session.firstConnection(options, passwordGiven: firstPasswordGiven,
                                            environment: ProcessInfo.processInfo.environment)
        var code = blocking { await interpreter.run(first, name: "<command line>", showingValues: false) }.exitCode
        if code == 0 {
            if let command = options.command {
                code = blocking { await interpreter.run(command, name: "-c") }.exitCode
            } else if let command = Session.redisCommand(options.script) {
                code = blocking { await interpreter.run(command, name: "<command line>") }.exitCode
            } else if let path = options.script.first {
                code = blocking { await interpreter.runFile(path) }.exitCode
            } else if interactive {
                code = Prompt(interpreter: interpreter).run()
            } else {
                code = runStandardInput()
            }
        }
        let keep = options.keep
        _ = blocking { await interpreter.shutdown(keepServers: keep); return RunOutcome.completed }
        return code
    }

    /// `connect default URL` for -u, -h/--host, -p/--port, -a, --user, -n/--db, as a
    /// statement so errors read alike. The password is named by its environment variable:
    /// -a/--askpass's own, --password-env's, or REDISCLI_AUTH (as redis-cli).
    static func firstConnection(_ options: CommandLineOptions, passwordGiven: Bool, environment: [String: String]) -> String {
        var address: String?
        if let url = options.url { address = url }
        if options.host != nil || options.port != nil {
            address = "\(options.host ?? "127.0.0.1"):\(options.port ?? 6379)"
        }
        if address == nil, passwordGiven || options.user != nil || options.db != nil || options.passwordEnv != nil
            || !options.tlsWords.isEmpty {
            address = "127.0.0.1:6379"
        }
        guard let address else { return "" }
        var statement = "connect default '\(address.replacingOccurrences(of: "'", with: "\\'"))'"
        if passwordGiven {
            statement += " --password-env \(CommandLinePassword.variable)"
        } else if let variable = options.passwordEnv {
            statement += " --password-env '\(variable.replacingOccurrences(of: "'", with: "\\'"))'"
        } else if environment["REDISCLI_AUTH"] != nil, options.url.map({ !$0.contains("@") }) ?? true {
            statement += " --password-env REDISCLI_AUTH"
        }
        if let user = options.user { statement += " --user '\(user.replacingOccurrences(of: "'", with: "\\'"))'" }
        if let db = options.db { statement += " --db \(db)" }
        statement += options.tlsWords
        return statement
    }

    /// As redis-cli: `redkeep -p 6379 GET key` sends `GET key` when the first word is not
    /// a script (no such file, no `/` in it, no `.rk` at its end), as one `redis`
    /// statement (so a word redkeep shadows, SAVE or ECHO, goes to Redis as redis-cli
    /// sends it) whose words are quoted as they came. Nil when the words name a script.
    static func redisCommand(_ words: [String], fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) -> String? {
        guard let first = words.first, !first.isEmpty, !first.contains("/"), !first.hasSuffix(".rk"), !fileExists(first) else { return nil }
        return "redis " + words.map { "'" + $0.replacingOccurrences(of: "'", with: "\\'") + "'" }.joined(separator: " ")
    }

    /// Statements from a pipe or file on stdin, run as they complete, with no prompt.
    private func runStandardInput() -> Int32 {
        var pending = ""
        var lineNumber = 0
        var firstLine = 1
        let interpreter = self.interpreter
        while let line = Swift.readLine(strippingNewline: false) {
            lineNumber += 1
            if pending.isEmpty { firstLine = lineNumber }
            pending += line
            if Interpreter.isIncomplete(pending) { continue }
            let text = pending
            let first = firstLine
            pending = ""
            let outcome = blocking { await interpreter.run(text, name: "<stdin>", firstLine: first) }
            if outcome != .completed { return outcome.exitCode }
        }
        if !pending.isEmpty {
            let rest = pending
            let first = firstLine
            return blocking { await interpreter.run(rest, name: "<stdin>", firstLine: first) }.exitCode
        }
        return 0
    }

    /// SIGTERM and SIGHUP stop the servers this run started before redkeep exits; SIGINT
    /// does the same outside the prompt (the prompt handles Ctrl-C itself).
    private func installSignalHandlers() {
        var signals = [SIGTERM, SIGHUP]
        if !interactive { signals.append(SIGINT) }
        let keep = options.keep
        let output = self.output
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // A foreground collector (chunk run) stops cleanly and the run exits 0.
                if number != SIGHUP, ForegroundInterrupt.deliver() { return }
                if !keep {
                    ProcessRegistry.shared.stopAllNow(grace: .seconds(5))
                    // The Lab's folders go too, as at an orderly end (Ctrl-D, end of script).
                    LabFolders.shared.removeAllNow()
                }
                output.flush()
                exit(128 + number)
            }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

/// Runs async work to completion from synchronous code on the main thread.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

final class ResultBox<T: Sendable>: @unchecked Sendable {
    // Written once by the task before it signals; read after the wait.
    var value: T?
}
