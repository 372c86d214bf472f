/// docs/commands.md, made from the same declarations `help` prints, so the two cannot
/// drift apart (a test compares the file with this text).
public enum CommandReference {
    /// The whole reference as Markdown.
    public static func markdown() -> String {
        var out = """
            # redkeep commands

            Generated from the command declarations: this is what `help WORD` prints.
            Regenerate with `REDKEEP_UPDATE_DOCS=1 swift test --filter CommandReferenceTests`.
            The language itself (quoting, variables, blocks, conditions) is in [language.md](language.md).

            Redis commands shadowed by redkeep words, sent with `redis CMD`: \(CommandRegistry.shadowed.joined(separator: ", ")).

            """
        for topic in CommandEntry.Topic.allCases where CommandRegistry.entries.contains(where: { $0.topic == topic }) {
            out += "\n## \(topic.rawValue)\n"
            for entry in CommandRegistry.entries where entry.topic == topic {
                out += "\n### \(entry.name)\n\n```\n\(entry.help().trimmingTrailingNewlines())\n```\n"
                // Each subcommand's own page (`help aof check`), at every level.
                for (path, _) in (CommandRegistry.declarations[entry.name]?.allPaths ?? []).dropFirst() {
                    guard let text = entry.subcommandHelp(Array(path.dropFirst())) else { continue }
                    out += "\n#### \(path.joined(separator: " "))\n\n```\n\(text.trimmingTrailingNewlines())\n```\n"
                }
            }
        }
        return out
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
