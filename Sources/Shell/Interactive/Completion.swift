/// What tab completion can offer, captured after each statement so the prompt can
/// complete without waiting on the interpreter.
public struct CompletionSnapshot: Sendable {
    /// Named connections.
    public var connections: [String] = []
    /// Command names the current server knows (from COMMAND DOCS), lower-case.
    public var redisCommands: [String] = []

    /// Creates a snapshot.
    public init(connections: [String] = [], redisCommands: [String] = []) {
        self.connections = connections
        self.redisCommands = redisCommands
    }

    /// Candidates for `word`, the word being typed, given the text before it on the line:
    /// redkeep words and Redis commands first; connection names after `use`, `disconnect`,
    /// `stop`, `crash`, `restart` and `@`; a command's subcommands and `--options`, and the
    /// values of an option that takes one of a list, all from the command's declaration
    /// (what ArgumentParser accepts); words and subcommands after `help`.
    public func candidates(before: String, word: String) -> [String] {
        var previous = before.split(separator: " ").map(String.init)
        if previous.first?.hasPrefix("@") == true { previous.removeFirst() }
        let words = CommandRegistry.entries.map(\.name).filter { !$0.hasPrefix("@") }
        let command = previous.first?.lowercased() ?? ""
        let declaration = CommandRegistry.declarations[command]?.resolve(Array(previous.dropFirst()))
        var pool: [String]
        if word.hasPrefix("@") {
            pool = connections.map { "@" + $0 }
        } else if previous.isEmpty {
            pool = words + redisCommands
        } else if word.hasPrefix("-") {
            pool = declaration?.optionNames ?? CommandRegistry.helpEntry(for: command)?.statementOptions ?? []
            if !word.hasPrefix("--") { pool = pool.filter { !$0.hasPrefix("--") } } else { pool = pool.filter { $0.hasPrefix("--") } }
        } else if let values = previous.last.flatMap({ declaration?.option($0)?.allValues }) {
            pool = values
        } else if let declaration, !declaration.subcommandNames.isEmpty {
            pool = declaration.subcommandNames
        } else if ["use", "disconnect", "stop", "crash", "restart"].contains(previous.last?.lowercased() ?? "") {
            pool = connections
        } else if command == "help" {
            pool = previous.count == 1 ? words + ["@NAME"]
                : CommandRegistry.declarations[previous[1].lowercased()]?.resolve(Array(previous.dropFirst(2))).subcommandNames ?? []
        } else if previous.last?.lowercased() == "redis" {
            pool = redisCommands
        } else {
            pool = []
        }
        // Match case-insensitively, answering in the case the person typed.
        let upper = word.first.map { $0.isUppercase } ?? false
        var seen = Set<String>()
        return pool.filter { $0.lowercased().hasPrefix(word.lowercased()) }
            .map { upper && !$0.hasPrefix("-") && !$0.hasPrefix("@") ? $0.uppercased() : $0 }
            .filter { seen.insert($0).inserted }
            .sorted()
    }
}

extension Interpreter {
    /// What completion may offer now; asks the current server for its command names once.
    public func completionSnapshot() async -> CompletionSnapshot {
        if redisCommandNames == nil, let name = connections.current, let entry = connections[name],
           let connection = entry.connection, connection.isOpen {
            if let reply = try? await connection.reply(to: ["COMMAND", "DOCS"]), !reply.isError {
                var names: [String] = []
                switch reply {
                case .map(let pairs): names = pairs.compactMap { $0.key.string }
                case .array(let flat): names = stride(from: 0, to: flat.count, by: 2).compactMap { flat[$0].string }
                default: break
                }
                redisCommandNames = names.map { $0.lowercased() }.sorted()
            }
        }
        return CompletionSnapshot(connections: connections.names, redisCommands: redisCommandNames ?? [])
    }

    /// True when `text` stops in the middle of a statement (an open quote, block, `$(`
    /// or a trailing `\`): the prompt then asks for another line.
    public static func isIncomplete(_ text: String) -> Bool {
        do {
            _ = try Parser.parse(SourceFile(name: "<prompt>", text: text))
            return false
        } catch {
            return error.kind == .incomplete
        }
    }
}
