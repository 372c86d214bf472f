import ArgumentParser
import NIOCore
import RESP

struct Help: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "help", abstract: "List redkeep's words, or explain one.")
    @Argument(help: "A word to explain.") var word: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        .verbatimString(format: "txt", text: ByteBuffer(string: Help.text(for: word)))
    }

    static func text(for word: String?) -> String {
        guard let word else { return overview }
        guard let entry = CommandRegistry.helpEntry(for: word) ?? (word.hasPrefix("@") ? CommandRegistry.helpEntry(for: "@NAME") : nil) else {
            return "\(word) is not a redkeep word; a statement starting with it goes to Redis as a command (see COMMAND DOCS \(word.uppercased())).\n"
        }
        return entry.help()
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
