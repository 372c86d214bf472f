/// One statement: its words, and the block that follows when it takes one
/// (`if`, `repeat`, `for`, `pipeline`, `multi`, `transaction`).
public struct Statement: Sendable, Hashable {
    /// The words before the block (or all of them).
    public var words: [Word]
    /// The `{ ... }` that follows, if any.
    public var block: [Statement]?
    /// For `if`: what follows `else`.
    public var elseBranch: ElseBranch?
    /// Where the statement starts.
    public var location: SourceLocation
    /// The byte range of the statement in its source (for echo and record).
    public var range: Range<Int>

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
