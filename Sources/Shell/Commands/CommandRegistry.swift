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

/// A redkeep command declared once: ArgumentParser gives its option parsing, validation
/// (`validate()`, `ExpressibleByArgument` enums), its `help` text and its option names (for
/// completion); `run` does the work.
///
/// A command with subcommands (`aof status`, `aof check PATH`) is a plain `ParsableCommand`
/// whose configuration lists them in `subcommands`; each of those is a `ShellCommand` (or
/// a group again). See MECHANISM.md in the change that introduced it, and ``CommandEntry/command(_:_:shadows:)``.
protocol ShellCommand: ParsableCommand {
    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue?
}

/// A command whose arguments may be relative times (`-10m`, `-2h`): before parsing, such a
/// word becomes `now-10m`, which ArgumentParser does not take for an option and
/// ``TimeText`` reads as the same time. Declare it on the command (or on the group whose
/// subcommands take times).
protocol AcceptsRelativeTimes {}

/// One word of the language, for dispatch, `help` and completion.
struct CommandEntry: Sendable {
    let name: String
    let summary: String
    /// The help text `help NAME` prints.
    let help: @Sendable () -> String
    /// The help of a subcommand (`help aof check`: the path `["check"]`), nil if there is none.
    let subcommandHelp: @Sendable ([String]) -> String?
    /// The declaration ArgumentParser dumps (subcommands, options), for completion; nil for
    /// the statements the evaluator handles itself.
    let declaration: @Sendable () -> CommandDeclaration?
    /// `--options` of a statement the evaluator handles itself (wait-until), for completion.
    let statementOptions: [String]
    /// Nil for statements the evaluator handles itself (let, if, ...).
    let run: (@Sendable ([String], Interpreter, CommandInvocation) async throws -> RESPValue?)?
    let topic: Topic
    /// The Redis command this word shadows (`SAVE`), reachable with `redis SAVE`.
    let shadows: String?
    /// The command's type, for the extreme-values test and the reference.
    let type: (any ParsableCommand.Type)?

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

    /// The entry of a command type. `C` is either a ``ShellCommand`` or a group whose
    /// configuration lists subcommands; the arguments are parsed with `C.parseAsRoot`, so
    /// the first word(s) pick the subcommand and its own options, enums and `validate()`
    /// apply. `help` output (`--help`, `aof help check`) is returned as text.
    static func command<C: ParsableCommand>(_ type: C.Type, _ topic: Topic, shadows: String? = nil) -> CommandEntry {
        let name = C.configuration.commandName!
        return CommandEntry(
            name: name, summary: C.configuration.abstract,
            help: { C.helpMessage(columns: 88) },
            subcommandHelp: { path in
                let (sub, consumed) = CommandEntry.subcommand(of: C.self, following: path)
                guard consumed == path.count, consumed > 0 else { return nil }
                return C.helpMessage(for: sub, columns: 88)
            },
            declaration: { CommandDeclaration.of(C.self) },
            statementOptions: [],
            run: { arguments, interpreter, invocation in
                let arguments = C.self is any AcceptsRelativeTimes.Type ? TimeText.protectingRelativeTimes(arguments) : arguments
                let command: any ShellCommand
                do {
                    var parsed = try C.parseAsRoot(arguments)
                    guard let runnable = parsed as? any ShellCommand else {
                        if Swift.type(of: parsed) == C.self, let subs = CommandDeclaration.of(C.self)?.subcommandNames, !subs.isEmpty {
                            throw ShellError(.usage, "\(name) needs a subcommand: \(subs.joined(separator: ", ")) (help \(name) SUBCOMMAND explains one)",
                                             at: invocation.location)
                        }
                        try parsed.run()  // ArgumentParser's `help` subcommand: throws its help request
                        return nil
                    }
                    command = runnable
                } catch let error as ShellError {
                    throw error
                } catch {
                    if C.exitCode(for: error) == .success {
                        return .verbatimString(format: "txt", text: .init(string: C.fullMessage(for: error, columns: 88)))
                    }
                    let (sub, consumed) = CommandEntry.subcommand(of: C.self, following: arguments)
                    let words = ([name] + arguments.prefix(consumed).map { $0.lowercased() }).joined(separator: " ")
                    let usage = consumed == 0 ? C.usageString() : C.usageString(for: sub)
                    throw ShellError(.usage, "\(words): \(C.message(for: error))\n  usage: \(words) \(CommandEntry.droppingCommandNames(usage, consumed + 1))",
                                     at: invocation.location)
                }
                return try await command.run(in: interpreter, invocation)
            },
            topic: topic, shadows: shadows, type: C.self)
    }

    static func syntax(_ name: String, _ usage: String, _ summary: String, _ discussion: String, options: [String] = []) -> CommandEntry {
        CommandEntry(name: name, summary: summary,
                     help: { "OVERVIEW: \(summary)\n\nUSAGE: \(usage)\n\n\(discussion)\n" },
                     subcommandHelp: { _ in nil }, declaration: { nil }, statementOptions: options,
                     run: nil, topic: .language, shadows: nil, type: nil)
    }

    /// The subcommand the leading `words` name (`["check", "x.aof"]` of `aof`: AofCheck, 1
    /// word), found through the configurations' `subcommands`.
    static func subcommand(of root: any ParsableCommand.Type, following words: [String]) -> (any ParsableCommand.Type, Int) {
        var current = root
        var consumed = 0
        for word in words {
            guard let next = current.configuration.subcommands.first(where: {
                $0.configuration.commandName == word.lowercased() || $0.configuration.aliases.contains(word.lowercased())
            }) else { break }
            current = next
            consumed += 1
        }
        return (current, consumed)
    }

    /// ArgumentParser's usage line without its leading command names (they are put back as typed).
    static func droppingCommandNames(_ usage: String, _ count: Int) -> String {
        var words = usage.split(separator: " ", omittingEmptySubsequences: false)
        if words.first == "Usage:" || words.first == "USAGE:" { words.removeFirst() }
        return words.dropFirst(min(count, words.count)).joined(separator: " ")
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
        .command(Servers.self, .servers),
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

    /// The declarations of every command, dumped once (completion asks for them often).
    static let declarations: [String: CommandDeclaration] = {
        var map: [String: CommandDeclaration] = [:]
        for entry in entries { if let declaration = entry.declaration() { map[entry.name] = declaration } }
        return map
    }()

    /// Redis commands that a redkeep word hides, sent with `redis CMD`.
    static var shadowed: [String] { entries.compactMap(\.shadows) + ["MULTI (only when followed by a block)"] }
}
