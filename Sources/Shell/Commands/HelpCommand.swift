import ArgumentParser
import NIOCore
import RESP

struct Help: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "help", abstract: "List redkeep's words, or explain one.")
    @Argument(help: "A word to explain, and its subcommand (help aof check).") var words: [String] = []

    func validate() throws {
        if words.count > 4 { throw ValidationError("help takes a word and its subcommands, not \(words.count) words") }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        .verbatimString(format: "txt", text: ByteBuffer(string: try Help.text(for: words, at: invocation.location)))
    }

    static func text(for words: [String], at location: SourceLocation? = nil) throws -> String {
        guard let word = words.first else { return overview }
        guard let entry = CommandRegistry.helpEntry(for: word) ?? (word.hasPrefix("@") ? CommandRegistry.helpEntry(for: "@NAME") : nil) else {
            let hint = WordSuggestion.nearest(to: word).map { "; did you mean \($0)?" } ?? "."
            return "\(word) is not a redkeep word\(hint) A statement starting with it goes to Redis as a command (see COMMAND DOCS \(word.uppercased())).\n"
        }
        let path = Array(words.dropFirst())
        guard !path.isEmpty else { return entry.help() }
        guard let text = entry.subcommandHelp(path) else {
            let subs = CommandRegistry.declarations[entry.name]?.subcommandNames ?? []
            throw ShellError(.usage, "\(entry.name) has no subcommand \(path.joined(separator: " "))"
                             + (subs.isEmpty ? "" : ": it has \(subs.joined(separator: ", "))"), at: location)
        }
        return text
    }

    static var overview: String {
        var out = "redkeep: an operator's shell for keeping Redis data safe.\n"
        out += "Any statement whose first word is not a redkeep word goes to the current connection as a Redis command.\n"
        for topic in CommandEntry.Topic.allCases where CommandRegistry.entries.contains(where: { $0.topic == topic }) {
            out += "\n\(topic.rawValue):\n"
            for entry in CommandRegistry.entries where entry.topic == topic {
                out += "  " + entry.name.padding(toLength: 14, withPad: " ", startingAt: 0) + entry.summary + "\n"
            }
        }
        out += "\nRedis commands shadowed by redkeep words (send them with redis CMD): " + CommandRegistry.shadowed.joined(separator: ", ") + "\n"
        out += "help WORD explains a word.\n"
        return out
    }
}
