/// Builds statements from tokens: words up to a separator, and a `{ ... }` block after
/// the statements that take one; `if` may continue with `else { ... }` or `else if ...`.
///
/// Tokens are pulled from the lexer as the parser goes, with a few looked at ahead: an
/// array of every token of a long script first cost a third of the time to parse it.
///
/// Package-visible for the fuzzing harness (Sources/FuzzLanguage).
package struct Parser {
    /// The statements that take a block: all of them must have one, except `multi`,
    /// which is Redis's own MULTI without one.
    static let blockKeywords: Set<Keyword> = [.if, .repeat, .for, .pipeline, .multi, .transaction]

    /// How deep the language nests at most: blocks, `else if`, `$( )` (also inside
    /// quotes), `let NAME =` chains and a condition's `(`, `not`, `and`, `or` together.
    /// Parsing and running recurse once per level, so without a bound a few thousand
    /// levels overflow the stack; 128 is far beyond any script and far within the stack.
    package static let maxNesting = 128

    private var lexer: Lexer
    private let file: SourceFile
    /// The levels open around the next token: the lexer's own (the `$( )` it is in) and
    /// the blocks and `else if`s open in this parser.
    private var nesting: Int
    /// Tokens read from the lexer and not consumed yet, next first (rarely more than one).
    private var lookahead: [Token] = []
    /// Where the last consumed token ends.
    private var previousEnd = 0
    /// The ``Statement/Head`` of the last few distinct first words, with their bytes.
    private var recentHeads: [(bytes: [UInt8], head: Statement.Head)] = []

    init(lexer: Lexer) {
        self.lexer = lexer
        self.file = lexer.file
        self.nesting = lexer.nesting
    }

    /// The error for one level too many, at the token that opens it.
    static func tooDeep(at location: SourceLocation) -> ShellError {
        ShellError(.syntax, "nested too deeply: blocks, else if, $( ), let chains and conditions nest at most \(maxNesting) levels", at: location)
    }

    /// Runs `body` one level deeper (a block, an `else if`), or throws at `location` when
    /// that is one level too many. The lexer follows, for the `$( )` of the words inside.
    private mutating func nested<T>(at location: SourceLocation, _ body: (inout Parser) throws(ShellError) -> T) throws(ShellError) -> T {
        guard nesting < Self.maxNesting else { throw Self.tooDeep(at: location) }
        nesting += 1
        lexer.nesting = nesting
        defer {
            nesting -= 1
            lexer.nesting = nesting
        }
        return try body(&self)
    }

    /// Parses a whole source.
    package static func parse(_ file: SourceFile) throws(ShellError) -> [Statement] {
        var parser = Parser(lexer: Lexer(file: file))
        return try parser.parseAll()
    }

    /// The token `distance` places ahead (0: the next one), or nil at the end.
    private mutating func peek(_ distance: Int = 0) throws(ShellError) -> Token? {
        try fill(distance) ? lookahead[distance] : nil
    }

    /// Reads tokens until the one `distance` places ahead is read; false at the end.
    private mutating func fill(_ distance: Int) throws(ShellError) -> Bool {
        while lookahead.count <= distance {
            guard let token = try lexer.next() else { return false }
            lookahead.append(token)
        }
        return true
    }

    /// Consumes the next token (which ``peek(_:)`` has read) and returns it, moved out
    /// rather than copied.
    @discardableResult
    private mutating func advance() -> Token {
        let token = lookahead.count == 1 ? lookahead.popLast()! : lookahead.removeFirst()
        previousEnd = token.location.offset + 1
        return token
    }

    /// True when the next token is a word (reading it if need be).
    private mutating func nextIsWord() throws(ShellError) -> Bool {
        try nextKind() == .word
    }

    private enum TokenKind { case word, separator, open, close }

    /// What the next token is, or nil at the end; looked at in place, where ``peek(_:)``
    /// returns a copy (a retain and a release per token of a long script).
    private mutating func nextKind() throws(ShellError) -> TokenKind? {
        guard try fill(0) else { return nil }
        switch lookahead[0] {
        case .word: return .word
        case .separator: return .separator
        case .open: return .open
        case .close: return .close
        }
    }

    /// Where the next token starts, or nil at the end.
    private mutating func nextStart() throws(ShellError) -> Int? {
        try fill(0) ? lookahead[0].location.offset : nil
    }

    /// Parses every statement; a stray `}` is an error.
    mutating func parseAll() throws(ShellError) -> [Statement] {
        try parseStatements(closedBy: nil)
    }

    /// Statements until the end of input, or until the `}` that closes the block opened at
    /// `opening`.
    private mutating func parseStatements(closedBy opening: SourceLocation?) throws(ShellError) -> [Statement] {
        var statements: [Statement] = []
        while let kind = try nextKind() {
            switch kind {
            case .separator:
                advance()
            case .close:
                let location = advance().location
                guard opening != nil else {
                    throw ShellError(.syntax, "unexpected }: no block is open", at: location)
                }
                return statements
            case .open:
                let keywords = Self.blockKeywords.map(\.rawValue).sorted().joined(separator: ", ")
                throw ShellError(.syntax, "a block must follow a statement that takes one (\(keywords))", at: advance().location)
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
        words.reserveCapacity(4)
        while try nextIsWord() {
            guard case .word(let word) = advance() else { break }
            words.append(word)
        }
        let location = words[0].location
        let head = head(of: words[0])
        try checkNesting(words, head: head)
        // The next token's start bounds the statement's text; the end of input otherwise.
        var end = try nextStart() ?? file.bytes.count
        // `let r = pipeline { ... }` keeps a block statement's value.
        var blockKeyword: Keyword?
        switch head.kind {
        case .keyword(.let)?: blockKeyword = words.count >= 4 ? words[3].bareText.flatMap { Keyword.named($0.lowercased()) } : nil
        case .keyword(let keyword)?: blockKeyword = keyword
        default: blockKeyword = nil
        }
        if blockKeyword == nil, head.isElse {
            throw ShellError(.syntax, "else without if: else must follow the } of an if block", at: location)
        }
        let takesBlock = blockKeyword.map { Self.blockKeywords.contains($0) } ?? false
        // The statement is made once, when its block is read: changing it afterwards
        // copied it, twice per statement of a long script.
        var block: [Statement]?
        var elseBranch: ElseBranch?
        if case .open(let opening)? = try peek() {
            guard let blockKeyword, takesBlock else {
                let name = words[0].literalText ?? "this statement"
                throw ShellError(.syntax, "unexpected {: \(name) does not take a block", at: opening)
            }
            advance()
            block = try nested(at: opening) { (parser) throws(ShellError) in try parser.parseStatements(closedBy: opening) }
            end = previousEnd
            if blockKeyword == .if {
                elseBranch = try parseElse()
                if elseBranch != nil { end = previousEnd }
            }
        } else if let blockKeyword, takesBlock, blockKeyword != .multi {
            throw ShellError(try peek() == nil ? .incomplete : .syntax,
                             "\(blockKeyword.rawValue) needs a block: \(Self.shape(of: blockKeyword))", at: location)
        }
        return Statement(words: words, head: head, block: block, elseBranch: elseBranch,
                         location: location, range: location.offset..<end)
    }

    /// Bounds what a statement nests within itself, beyond the blocks around it: each
    /// `let NAME =` of a chain (`let a = let b = GET k`: one evaluation inside the other),
    /// and in a condition of `if`, `assert` or `wait-until` each `(` open at once and each
    /// `not`, `and`, `or` (an upper bound of the depth of its expression tree, which is
    /// parsed, evaluated and freed recursively).
    private func checkNesting(_ words: [Word], head: Statement.Head) throws(ShellError) {
        var level = nesting
        var index = 0
        if case .keyword(.let)? = head.kind, words.count > 3 {
            // The first `let` is known from the head; the words after each `=` may be another.
            while index == 0 || (index + 3 < words.count && words[index].bareText?.lowercased() == Keyword.let.rawValue),
                  words[index + 2].bareText == "=" {
                level += 1
                guard level <= Self.maxNesting else { throw Self.tooDeep(at: words[index].location) }
                index += 3
            }
        }
        // The first word's kind is known already: no string is made for most statements.
        let keyword: Keyword?
        if index > 0 {
            keyword = words[index].bareText.flatMap { Keyword.named($0.lowercased()) }
        } else if case .keyword(let first)? = head.kind {
            keyword = first
        } else {
            keyword = nil
        }
        guard keyword == .if || keyword == .assert || keyword == .waitUntil else { return }
        var open = 0
        for word in words[(index + 1)...] {
            switch word.bareText {
            case "(":
                open += 1
                level += 1
            case ")":
                // Closing gives back the level of its `(`, so that `(a) and (b)` counts 2.
                if open > 0 { open -= 1; level -= 1 }
                continue
            case "not", "and", "or":
                level += 1
            default:
                continue
            }
            guard level <= Self.maxNesting else { throw Self.tooDeep(at: word.location) }
        }
    }

    /// What `first` decides about its statement, from the recent first words when it is
    /// one of them (a script mostly repeats a few commands).
    private mutating func head(of first: Word) -> Statement.Head {
        guard !first.isQuoted, let count = first.literalCount, count <= 32 else { return Statement.Head(first) }
        let recent = recentHeads
        if let index = first.withLiteralBytes({ raw in recent.firstIndex { $0.bytes.elementsEqual(raw) } }) ?? nil {
            return recent[index].head
        }
        let head = Statement.Head(first)
        if recentHeads.count == 8 { recentHeads.removeFirst() }
        recentHeads.append((first.literalBytes ?? [], head))
        return head
    }

    /// After an if's `}`: `else { ... }` or `else if ...`, possibly on a following line.
    private mutating func parseElse() throws(ShellError) -> ElseBranch? {
        var look = 0
        while case .separator? = try peek(look) { look += 1 }
        guard case .word(let word)? = try peek(look), word.bareText == "else" else { return nil }
        for _ in 0...look { advance() }
        switch try peek() {
        case nil:
            throw ShellError(.incomplete, "else needs a block or another if", at: word.location)
        case .open(let opening)?:
            advance()
            return .block(try nested(at: opening) { (parser) throws(ShellError) in try parser.parseStatements(closedBy: opening) })
        case .word(let next)? where next.bareText == "if":
            return .statement(try nested(at: next.location) { (parser) throws(ShellError) in try parser.parseStatement() })
        default:
            throw ShellError(.syntax, "else must be followed by { or by if", at: word.location)
        }
    }

    static func shape(of keyword: Keyword) -> String {
        switch keyword {
        case .if: return "if EXPR { ... } else { ... }"
        case .repeat: return "repeat N { ... }"
        case .for: return "for NAME in WORD... { ... }"
        case .pipeline: return "pipeline { ... }"
        case .multi: return "multi { ... }"
        default: return "transaction --watch KEY... { ... }"
        }
    }
}
