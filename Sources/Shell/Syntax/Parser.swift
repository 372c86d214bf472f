/// Builds statements from tokens: words up to a separator, and a `{ ... }` block after
/// the statements that take one; `if` may continue with `else { ... }` or `else if ...`.
struct Parser {
    /// The statements that must be followed by a block.
    static let blockKeywords: Set<String> = ["if", "repeat", "for", "pipeline", "multi", "transaction"]

    private let tokens: [Token]
    private let file: SourceFile
    private var index = 0

    init(tokens: [Token], file: SourceFile) {
        self.tokens = tokens
        self.file = file
    }

    /// Parses a whole source.
    static func parse(_ file: SourceFile) throws(ShellError) -> [Statement] {
        var lexer = Lexer(file: file)
        var parser = Parser(tokens: try lexer.tokens(), file: file)
        return try parser.parseAll()
    }

    /// Parses every statement; a stray `}` is an error.
    mutating func parseAll() throws(ShellError) -> [Statement] {
        try parseStatements(closedBy: nil)
    }

    /// Statements until the end of input, or until the `}` that closes the block opened at
    /// `opening`.
    private mutating func parseStatements(closedBy opening: SourceLocation?) throws(ShellError) -> [Statement] {
        var statements: [Statement] = []
        while index < tokens.count {
            switch tokens[index] {
            case .separator:
                index += 1
            case .close(let location):
                guard opening != nil else {
                    throw ShellError(.syntax, "unexpected }: no block is open", at: location)
                }
                index += 1
                return statements
            case .open(let location):
                throw ShellError(.syntax, "a block must follow a statement that takes one (\(Self.blockKeywords.sorted().joined(separator: ", ")))", at: location)
            case .word:
                statements.append(try parseStatement())
            }
        }
        if let opening {
            throw ShellError(.incomplete, "missing } to close the block opened at line \(opening.line), column \(opening.column)", at: opening)
        }
        return statements
    }

    private mutating func parseStatement() throws(ShellError) -> Statement {
        var words: [Word] = []
        while index < tokens.count, case .word(let word) = tokens[index] {
            words.append(word)
            index += 1
        }
        let first = words[0]
        let keyword = first.bareText
        if keyword == "else" {
            throw ShellError(.syntax, "else without if: else must follow the } of an if block", at: first.location)
        }
        var statement = Statement(words: words, block: nil, elseBranch: nil, location: first.location,
                                  range: first.location.offset..<endOffset(of: words.last!))
        // `let r = pipeline { ... }` keeps a block statement's value.
        let blockKeyword = keyword == "let" && words.count >= 4 ? words[3].bareText : keyword
        let takesBlock = blockKeyword.map { Self.blockKeywords.contains($0) } ?? false
        if index < tokens.count, case .open(let opening) = tokens[index] {
            guard takesBlock else {
                let name = first.literalText ?? "this statement"
                throw ShellError(.syntax, "unexpected {: \(name) does not take a block", at: opening)
            }
            index += 1
            statement.block = try parseStatements(closedBy: opening)
            statement.range = statement.range.lowerBound..<previousTokenEnd()
            if blockKeyword == "if" { statement.elseBranch = try parseElse() }
            if statement.elseBranch != nil { statement.range = statement.range.lowerBound..<previousTokenEnd() }
        } else if takesBlock {
            throw ShellError(index >= tokens.count ? .incomplete : .syntax,
                             "\(blockKeyword!) needs a block: \(Self.shape(of: blockKeyword!))", at: first.location)
        }
        return statement
    }

    /// After an if's `}`: `else { ... }` or `else if ...`, possibly on a following line.
    private mutating func parseElse() throws(ShellError) -> ElseBranch? {
        var look = index
        while look < tokens.count, case .separator = tokens[look] { look += 1 }
        guard look < tokens.count, case .word(let word) = tokens[look], word.bareText == "else" else { return nil }
        index = look + 1
        guard index < tokens.count else {
            throw ShellError(.incomplete, "else needs a block or another if", at: word.location)
        }
        switch tokens[index] {
        case .open(let opening):
            index += 1
            return .block(try parseStatements(closedBy: opening))
        case .word(let next) where next.bareText == "if":
            return .statement(try parseStatement())
        default:
            throw ShellError(.syntax, "else must be followed by { or by if", at: word.location)
        }
    }

    private func endOffset(of word: Word) -> Int {
        // The next token's start bounds the word; the end of input otherwise.
        var i = index
        while i < tokens.count {
            switch tokens[i] {
            case .word(let w): return w.location.offset
            case .separator(let l), .open(let l), .close(let l): return l.offset
            }
        }
        return file.bytes.count
    }

    private func previousTokenEnd() -> Int {
        guard index > 0 else { return 0 }
        switch tokens[index - 1] {
        case .close(let l), .open(let l), .separator(let l): return l.offset + 1
        case .word(let w): return w.location.offset + 1
        }
    }

    static func shape(of keyword: String) -> String {
        switch keyword {
        case "if": return "if EXPR { ... } else { ... }"
        case "repeat": return "repeat N { ... }"
        case "for": return "for NAME in WORD... { ... }"
        case "pipeline": return "pipeline { ... }"
        case "multi": return "multi { ... }"
        default: return "transaction --watch KEY... { ... }"
        }
    }
}
