import ArgumentParser
import Foundation

/// A command's declaration as ArgumentParser itself describes it: the JSON that
/// `--experimental-dump-help` prints (the ArgumentParserToolInfo format), decoded. Completion
/// and the extreme-values test take subcommand and option names from here, so they are the
/// names the parser accepts, never words scraped from help text.
struct CommandDeclaration: Decodable, Sendable {
    /// One argument, option or flag.
    struct Argument: Decodable, Sendable {
        struct Name: Decodable, Sendable {
            /// `long`, `short` or `longWithSingleDash`.
            let kind: String
            let name: String
        }

        /// `positional`, `option` (takes a value) or `flag`.
        let kind: String
        let shouldDisplay: Bool
        let names: [Name]?
        /// The values an `ExpressibleByArgument` enum accepts.
        let allValues: [String]?
        let valueName: String?

        /// How the option is written: `--copy-to`, `-c`.
        var spellings: [String] {
            (names ?? []).map { $0.kind == "long" ? "--" + $0.name : "-" + $0.name }
        }

        var takesValue: Bool { kind == "option" }
    }

    let commandName: String
    let subcommands: [CommandDeclaration]?
    let arguments: [Argument]?

    /// ArgumentParser's own names, which every command has and completion does not offer.
    private static let builtIn: Set<String> = ["-h", "--help", "--version", "--experimental-dump-help", "help"]

    /// The declaration of `type` and its subcommands, or nil if ArgumentParser's dump could
    /// not be read (it always can for a well-formed command; a test checks every one).
    static func of(_ type: any ParsableCommand.Type) -> CommandDeclaration? {
        // What `--experimental-dump-help` prints, asked for directly: a command that
        // captures every word (echo) would take the flag for a word.
        struct ToolInfo: Decodable { let command: CommandDeclaration }
        return try? JSONDecoder().decode(ToolInfo.self, from: Data(type._dumpHelp().utf8)).command
    }

    /// Subcommand names, in declaration order (ArgumentParser's `help` left out).
    var subcommandNames: [String] {
        (subcommands ?? []).map(\.commandName).filter { !Self.builtIn.contains($0) }
    }

    /// Options and flags that can be typed: `--long` names and `-s` short ones.
    var optionNames: [String] {
        (arguments ?? []).filter { $0.kind != "positional" && $0.shouldDisplay }
            .flatMap(\.spellings).filter { !Self.builtIn.contains($0) }
    }

    /// Options that take a value (flags and positionals left out).
    var valueOptions: [Argument] {
        (arguments ?? []).filter { $0.takesValue && $0.shouldDisplay && !$0.spellings.contains(where: Self.builtIn.contains) }
    }

    /// The option spelled `spelling` (`--mode`, `-c`), if this command has one.
    func option(_ spelling: String) -> Argument? {
        (arguments ?? []).first { $0.kind != "positional" && $0.spellings.contains(spelling) }
    }

    /// The subcommand named `name`.
    func subcommand(_ name: String) -> CommandDeclaration? {
        subcommands?.first { $0.commandName == name.lowercased() && !Self.builtIn.contains($0.commandName) }
    }

    /// Follows `words` down the subcommands: each word naming a subcommand of the one
    /// reached so far goes one level down; other words (options, values) are skipped.
    func resolve(_ words: [String]) -> CommandDeclaration {
        var current = self
        for word in words {
            if let next = current.subcommand(word) { current = next }
        }
        return current
    }

    /// Every command path below this one, this one first: `["aof"]`, `["aof", "check"]`...
    var allPaths: [([String], CommandDeclaration)] {
        [([commandName], self)] + (subcommands ?? []).filter { !Self.builtIn.contains($0.commandName) }.flatMap { sub in
            sub.allPaths.map { ([commandName] + $0.0, $0.1) }
        }
    }
}
