import ArgumentParser
import Foundation
import RESP

struct Echo: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "Print words, substitutions filled in.")
    @Argument(parsing: .captureForPassthrough, help: "The words to print, joined by spaces.") var words: [String] = []

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        await interpreter.say(words.joined(separator: " "))
        return nil
    }
}

struct Sleep: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "sleep", abstract: "Wait for a while (250ms, 2s, 1m; a bare number is seconds; at most 7d).")
    @Argument(help: "How long.") var duration: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        guard let d = DurationText.parse(duration) else {
            throw ShellError(.usage, "sleep takes a duration like 250ms, 2s or 1m, not \"\(duration.prefix(80))\"", at: invocation.location)
        }
        guard d <= Bounds.wait.upperBound else {
            throw ShellError(.usage, "sleep lasts at most \(DurationText.format(Bounds.wait.upperBound)), not \(duration.prefix(80))", at: invocation.location)
        }
        try await Task.sleep(for: d)
        return nil
    }
}

struct Source: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "source", abstract: "Run the statements of another script file here, with the same variables and connections.")
    @Argument(help: "The script (relative to the running script's folder).") var file: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.source(file, at: invocation.location)
        return nil
    }
}

struct OptionCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "option", abstract: "Change how the session behaves.",
        discussion: """
        option on-error stop|continue   stop a script at the first error (default), or print it and go on
        option echo on|off              show each statement before it runs
        option output human|raw|json    how values are printed
        """)
    @Argument(help: "on-error, echo or output.") var name: String
    @Argument(help: "The new setting.") var value: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.setOption(name, value, at: invocation.location)
        return nil
    }
}

struct Record: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "record", abstract: "Write the statements typed at the prompt into a script that replays them.",
        discussion: """
        record FILE starts (appending), record stop stops. Lines holding passwords are never written.
        A new FILE is created readable by its owner only (0600).
        """)
    @Argument(help: "A file, or stop.") var file: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.setRecording(file == "stop" ? nil : file, at: invocation.location)
        return nil
    }
}

/// How many `source` files run inside one another in the current task.
enum SourceNesting {
    /// The most files deep `source` goes.
    static let limit = 64
    @TaskLocal static var depth = 0
}

extension Interpreter {
    func source(_ file: String, at location: SourceLocation) async throws {
        let path = file.hasPrefix("/") ? file : ((scriptDirectory ?? FileManager.default.currentDirectoryPath) as NSString).appendingPathComponent(file)
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ShellError(.usage, "cannot read \(path): \(Self.describe(error))", at: location)
        }
        // A file that sources itself (or a ring of them) would otherwise run deeper and
        // deeper until memory runs out.
        let depth = SourceNesting.depth + 1
        guard depth <= SourceNesting.limit else {
            throw ShellError(.usage, "cannot source \(path): source nests at most \(SourceNesting.limit) files deep (does a file source itself?)", at: location)
        }
        let statements = try Parser.parse(SourceFile(name: path, text: text))
        let previous = scriptDirectory
        scriptDirectory = (path as NSString).deletingLastPathComponent
        defer { scriptDirectory = previous }
        try await SourceNesting.$depth.withValue(depth) { try await runBlock(statements) }
    }

    func setOption(_ name: String, _ value: String, at location: SourceLocation) throws {
        switch (name, value) {
        case ("on-error", "stop"): configuration.continueOnError = false
        case ("on-error", "continue"): configuration.continueOnError = true
        case ("echo", "on"): configuration.echo = true
        case ("echo", "off"): configuration.echo = false
        case ("output", _):
            guard let mode = OutputMode(rawValue: value) else {
                throw ShellError(.usage, "option output takes human, raw or json, not \"\(value)\"", at: location)
            }
            configuration.outputMode = mode
        case ("on-error", _): throw ShellError(.usage, "option on-error takes stop or continue, not \"\(value)\"", at: location)
        case ("echo", _): throw ShellError(.usage, "option echo takes on or off, not \"\(value)\"", at: location)
        default: throw ShellError(.usage, "unknown option \"\(name)\": on-error, echo or output", at: location)
        }
    }

    func setRecording(_ path: String?, at location: SourceLocation) throws {
        guard let path else {
            recordPath = nil
            return
        }
        // Created readable by its owner only, as the history file is: statements name keys,
        // hosts and users. A file that exists keeps its mode: it may be a script already
        // (0755 with a #! line) whose reader the owner chose.
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ShellError(.usage, "cannot record into \(path): \(String(cString: strerror(errno)))", at: location)
        }
        close(fd)
        recordPath = path
    }

    /// Appends a statement typed at the prompt to the record file (never one with a secret,
    /// never `record` itself), and flushes it to disk so a crash keeps it.
    func record(_ statement: Statement) {
        guard let recordPath, statement.head != "record" else { return }
        let text = statement.text
        guard !SecretFilter.containsSecret(text) else { return }
        let fd = open(recordPath, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = Array((text + "\n").utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
    }
}
