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
        interpreter = Interpreter(configuration)
    }

    /// Runs and returns the exit code.
    func run() -> Int32 {
        if let policy = options.onError, policy != "stop" && policy != "continue" {
            FileHandle.standardError.write(Data("redkeep: --on-error takes stop or continue, not \"\(policy)\"\n".utf8))
            return 1
        }
        installSignalHandlers()
        let interpreter = self.interpreter
        // Quietly, as redis-cli connects: the connection's report would come before the
        // output of every -c and script.
        let first = Session.firstConnection(options)
        var code = blocking { await interpreter.run(first, name: "<command line>", showingValues: false) }.exitCode
        if code == 0 {
            if let command = options.command {
                code = blocking { await interpreter.run(command, name: "-c") }.exitCode
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

    /// `connect default URL` for -u / --host / --port, as a statement so errors read alike.
    static func firstConnection(_ options: CommandLineOptions) -> String {
        var address: String?
        if let url = options.url { address = url }
        if options.host != nil || options.port != nil {
            address = "\(options.host ?? "127.0.0.1"):\(options.port ?? 6379)"
        }
        guard let address else { return "" }
        var statement = "connect default '\(address.replacingOccurrences(of: "'", with: "\\'"))'"
        if let variable = options.passwordEnv { statement += " --password-env \(variable)" }
        statement += options.tlsWords
        return statement
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
                if !keep { ProcessRegistry.shared.stopAllNow(grace: .seconds(5)) }
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
