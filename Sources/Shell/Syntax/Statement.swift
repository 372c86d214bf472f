/// One statement: its words, and the block that follows when it takes one
/// (`if`, `repeat`, `for`, `pipeline`, `multi`, `transaction`).
public struct Statement: Sendable, Hashable {
    /// The words before the block (or all of them).
    public let words: [Word]
    /// The first word in lower case when it is bare text: the keyword, redkeep command or
    /// Redis command name that decides what the statement does. Made once here because
    /// running a statement looks at it several times (keyword, command lookup, output).
    public let head: String?
    /// What the statement is, decided once here rather than each time it runs.
    let kind: Kind
    /// True when it sends a Redis command whose reply redis-cli prints as raw text
    /// whatever the mode (INFO, CLIENT LIST...; see ``ReplyFormatter/printsVerbatim(command:)``).
    let printsVerbatim: Bool
    /// The `{ ... }` that follows, if any.
    public var block: [Statement]?
    /// For `if`: what follows `else`.
    public var elseBranch: ElseBranch?
    /// Where the statement starts.
    public var location: SourceLocation
    /// The byte range of the statement in its source (for echo and record).
    public var range: Range<Int>

    /// Creates a statement.
    public init(words: [Word], block: [Statement]?, elseBranch: ElseBranch?, location: SourceLocation, range: Range<Int>) {
        self.init(words: words, head: Head(words.first), block: block, elseBranch: elseBranch, location: location, range: range)
    }

    /// Creates a statement whose first word has been looked at already (see ``Head``).
    init(words: [Word], head: Head, block: [Statement]?, elseBranch: ElseBranch?, location: SourceLocation, range: Range<Int>) {
        self.words = words
        self.head = head.text
        let kind = head.kind ?? .redis(literal: words.allSatisfy(\.isLiteral))
        self.kind = kind
        self.printsVerbatim = head.mayPrintVerbatim && Self.printsVerbatim(words: words, head: head.text, kind: kind)
        self.block = block
        self.elseBranch = elseBranch
        self.location = location
        self.range = range
    }

    /// The statement's text as written.
    public var text: String { location.file.text(range) }

    /// The first word when it is bare text: the keyword that decides what the statement is.
    public var keyword: String? { words.first?.bareText }
}

extension Statement {
    /// The words after `@name`, without a `redis` prefix that has a command after it:
    /// `@replica redis SAVE` sends SAVE.
    static func droppingRedisPrefix(_ words: ArraySlice<Word>) -> ArraySlice<Word> {
        guard words.count > 1, words.first?.bareText?.lowercased() == Keyword.redis.rawValue else { return words }
        return words.dropFirst()
    }

    private static func printsVerbatim(words: [Word], head: String?, kind: Kind) -> Bool {
        // Only the words that matter are made into strings: the name, and the rest only
        // when the name is one whose replies can print verbatim.
        var command = words[...]
        let name: String?
        switch kind {
        case .redis:
            name = head ?? command.first?.literalText?.lowercased()
        case .keyword(.redis):
            command = command.dropFirst()
            name = command.first?.literalText?.lowercased()
        case .redirected:
            command = Self.droppingRedisPrefix(command.dropFirst())
            name = command.first?.literalText?.lowercased()
        case .keyword, .redkeepCommand:
            return false
        }
        guard let name, ReplyFormatter.mayPrintVerbatim(lowercasedName: name),
              CommandRegistry.entry(forLowercased: name) == nil else { return false }
        return ReplyFormatter.printsVerbatim(command: command.map { $0.literalText ?? "" })
    }

    /// What a statement's first word alone decides. The parser keeps those of the first
    /// words it met last, by their bytes: working them out (lower-casing, two table
    /// look-ups, the verbatim check) was a quarter of the time to parse a long script of
    /// the same few commands.
    struct Head {
        /// The first word in lower case when it is bare text (``Statement/head``).
        let text: String?
        /// The kind, unless the words after the first decide it: nil for a Redis command.
        let kind: Kind?
        /// False when no statement starting with this word prints its reply verbatim.
        let mayPrintVerbatim: Bool
        /// True for a bare `else` (one without its `if` is an error).
        let isElse: Bool

        init(_ first: Word?) {
            let bare = first?.bareText
            isElse = bare == "else"
            let text = bare?.lowercased()
            self.text = text
            let kind = text.flatMap(Kind.init(head:))
            self.kind = kind
            switch kind {
            case nil: mayPrintVerbatim = text.map(ReplyFormatter.mayPrintVerbatim(lowercasedName:)) ?? true
            case .keyword(.redis)?, .redirected?: mayPrintVerbatim = true
            case .keyword?, .redkeepCommand?, .redis?: mayPrintVerbatim = false
            }
        }
    }

    /// What a statement is, by its first word.
    enum Kind: Sendable, Hashable {
        /// A word the evaluator handles itself (`let`, `if`, `pipeline`...).
        case keyword(Keyword)
        /// A redkeep command from ``CommandRegistry``.
        case redkeepCommand
        /// `@name STATEMENT`: the rest goes to connection `name`.
        case redirected
        /// A Redis command; `literal` when no word needs substituting, so that running it
        /// encodes the words as they are.
        case redis(literal: Bool)

        /// The kind a bare first word (lower case) decides alone; nil for a Redis command.
        init?(head: String) {
            if let keyword = Keyword.named(head) {
                self = .keyword(keyword)
            } else if head.utf8.first == UInt8(ascii: "@") && head.utf8.count > 1 {
                self = .redirected
            } else if CommandRegistry.entry(forLowercased: head) != nil {
                self = .redkeepCommand
            } else {
                return nil
            }
        }
    }
}

/// What follows `else`: a block, or another `if` statement (`else if ...`).
public indirect enum ElseBranch: Sendable, Hashable {
    case block([Statement])
    case statement(Statement)
}
