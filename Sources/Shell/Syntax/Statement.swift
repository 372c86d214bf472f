/// One statement: its words, and the block that follows when it takes one
/// (`if`, `repeat`, `for`, `pipeline`, `multi`, `transaction`).
public struct Statement: Sendable, Hashable {
    /// The words before the block (or all of them).
    public let words: [Word]
    /// The first word in lower case when it is bare text: the keyword, redkeep command or
    /// Redis command name that decides what the statement does. Made once here because
    /// running a statement looks at it several times (keyword, command lookup, output).
    public let head: String?
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
        self.words = words
        self.head = words.first?.bareText?.lowercased()
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

/// What follows `else`: a block, or another `if` statement (`else if ...`).
public indirect enum ElseBranch: Sendable, Hashable {
    case block([Statement])
    case statement(Statement)
}
