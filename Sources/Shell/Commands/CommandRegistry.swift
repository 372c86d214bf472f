import ArgumentParser
import RESP

/// What a command learns about the statement that called it.
public struct CommandInvocation: Sendable {
    /// The connection named with `@name`, if any (else the current one applies).
    public let target: String?
    /// Where the statement is, for errors.
    public let location: SourceLocation
    let statement: Statement
}

/// A redkeep command declared once: ArgumentParser gives its option parsing, its `help`
/// text and its option names (for completion); `run` does the work.
protocol ShellCommand: ParsableCommand {
    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue?
}

/// One word of the language, for dispatch, `help` and completion.
struct CommandEntry: Sendable {
    let name: String
    let summary: String
    /// The help text `help NAME` prints.
    let help: @Sendable () -> String
    /// `--options` it takes, for completion.
    let options: @Sendable () -> [String]
    /// Nil for statements the evaluator handles itself (let, if, ...).
    let run: (@Sendable ([String], Interpreter, CommandInvocation) async throws -> RESPValue?)?
    let topic: Topic
    /// The Redis command this word shadows (`SAVE`), reachable with `redis SAVE`.
    let shadows: String?

    enum Topic: String, CaseIterable, Sendable {
        case language = "Language"
        case connections = "Connections"
        case servers = "Local servers"
        case persistence = "Snapshots and the append-only file"
        case rollForward = "Point-in-time roll-forward"
        case replication = "Replication and failover"
        case demos = "Teaching demos and benchmarks"
        case help = "Help"
    }

    static func command<C: ShellCommand>(_ type: C.Type, _ topic: Topic, shadows: String? = nil) -> CommandEntry {
        let name = C.configuration.commandName!
        return CommandEntry(
            name: name, summary: C.configuration.abstract,
            help: { C.helpMessage(columns: 88) },
            options: { CommandEntry.optionNames(in: C.helpMessage(columns: 200)) },
            run: { arguments, interpreter, invocation in
                let parsed: C
                do {
                    parsed = try C.parse(arguments)
                } catch {
                    if C.exitCode(for: error) == .success {
                        return .verbatimString(format: "txt", text: .init(string: C.helpMessage(columns: 88)))
                    }
                    let usage = C.usageString()
                    throw ShellError(.usage, "\(name): \(C.message(for: error))\n  usage: \(usage)", at: invocation.location)
                }
                return try await parsed.run(in: interpreter, invocation)
            },
            topic: topic, shadows: shadows)
    }

    static func syntax(_ name: String, _ usage: String, _ summary: String, _ discussion: String, options: [String] = []) -> CommandEntry {
        CommandEntry(name: name, summary: summary,
                     help: { "OVERVIEW: \(summary)\n\nUSAGE: \(usage)\n\n\(discussion)\n" },
                     options: { options }, run: nil, topic: .language, shadows: nil)
    }

    static func optionNames(in help: String) -> [String] {
        var names: [String] = []
        for word in help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" || $0 == "(" || $0 == ")" }) {
            if word.hasPrefix("--"), word.count > 2, !names.contains(String(word)), word != "--help" { names.append(String(word)) }
        }
        return names
    }
}

/// Every word of the language, in the order `help` lists them.
enum CommandRegistry {
    static let entries: [CommandEntry] = LanguageHelp.entries + [
        .command(Echo.self, .language, shadows: "ECHO"),
        .command(Sleep.self, .language),
        .command(Source.self, .language),
        .command(OptionCommand.self, .language),
        .command(Record.self, .language),
        .command(Connect.self, .connections),
        .command(Use.self, .connections),
        .command(Disconnect.self, .connections),
        .command(Connections.self, .connections),
        .command(Start.self, .servers),
        .command(Stop.self, .servers),
        .command(Crash.self, .servers),
        .command(Restart.self, .servers),
        .command(Save.self, .persistence, shadows: "SAVE"),
        .command(Rewrite.self, .persistence),
        .command(Aof.self, .persistence),
        .command(RdbCommand.self, .persistence),
        .command(ChunkCommand.self, .rollForward),
        .command(MarkCommand.self, .rollForward),
        .command(ReplayUntil.self, .rollForward),
        .command(ArchiveCommand.self, .rollForward),
        .command(VerifySync.self, .replication),
        .command(Replicas.self, .replication),
        .command(FailoverCommand.self, .replication, shadows: "FAILOVER"),
        .command(MarketCommand.self, .demos),
        .command(ListItem.self, .demos),
        .command(Purchase.self, .demos),
        .command(BenchmarkCommand.self, .demos),
        .command(Help.self, .help),
    ]

    private static let runnable: [String: CommandEntry] = {
        var map: [String: CommandEntry] = [:]
        for entry in entries where entry.run != nil { map[entry.name] = entry }
        return map
    }()

    private static let all: [String: CommandEntry] = {
        var map: [String: CommandEntry] = [:]
        for entry in entries { map[entry.name] = entry }
        return map
    }()

    /// The command a statement's first word names (case does not matter), if redkeep has one.
    static func entry(for word: String) -> CommandEntry? { runnable[word.lowercased()] }

    /// ``entry(for:)`` for a word already in lower case (``Statement/head``).
    static func entry(forLowercased word: String) -> CommandEntry? { runnable[word] }

    /// Any word with help, statements included.
    static func helpEntry(for word: String) -> CommandEntry? { all[word.lowercased()] }

    /// Redis commands that a redkeep word hides, sent with `redis CMD`.
    static var shadowed: [String] { entries.compactMap(\.shadows) + ["MULTI (only when followed by a block)"] }
}
