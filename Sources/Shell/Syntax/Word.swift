/// One word of a statement, as written: literal bytes and substitutions that the
/// evaluator fills in. A substituted value stays one word (no re-splitting).
public struct Word: Sendable, Hashable {
    /// The pieces, in order.
    public var parts: [WordPart] {
        get {
            switch storage {
            case .literal(let bytes): [.literal(bytes)]
            case .parts(let parts): parts
            }
        }
        set { storage = Storage(newValue) }
    }
    /// Where the word starts.
    public var location: SourceLocation
    /// True when any part of it was quoted: a quoted `{`, `#` or keyword is plain text.
    public var isQuoted: Bool

    /// Almost every word is one literal piece; it is kept without an array of parts
    /// around it. That is one allocation less per word, which a long script's parse and
    /// memory showed.
    private var storage: Storage

    private enum Storage: Sendable, Hashable {
        case literal([UInt8])
        case parts([WordPart])

        init(_ parts: [WordPart]) {
            if parts.count == 1, case .literal(let bytes) = parts[0] {
                self = .literal(bytes)
            } else {
                self = .parts(parts)
            }
        }
    }

    /// Creates a word.
    public init(parts: [WordPart], location: SourceLocation, isQuoted: Bool) {
        self.storage = Storage(parts)
        self.location = location
        self.isQuoted = isQuoted
    }

    /// Creates a word of one literal piece.
    init(literal bytes: [UInt8], location: SourceLocation, isQuoted: Bool) {
        self.storage = .literal(bytes)
        self.location = location
        self.isQuoted = isQuoted
    }

    /// The bytes when the word is one literal piece (quoted or not), else nil. Makes
    /// nothing: for the checks made on every word.
    public var literalBytes: [UInt8]? {
        if case .literal(let bytes) = storage { return bytes }
        return nil
    }

    /// The word's text when it has no substitutions (quoted or not), else nil.
    public var literalText: String? {
        switch storage {
        case .literal(let bytes):
            return String(decoding: bytes, as: UTF8.self)
        case .parts(let parts):
            var bytes: [UInt8] = []
            for part in parts {
                guard case .literal(let b) = part else { return nil }
                bytes += b
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The text when the word is unquoted and has no substitutions: what keywords,
    /// operators and braces must be.
    public var bareText: String? { isQuoted ? nil : literalText }

    /// `{` or `}` when the word is that one unquoted byte, else nil. The lexer asks this of
    /// every word; it makes no String.
    var loneBrace: UInt8? {
        guard !isQuoted, case .literal(let bytes) = storage, bytes.count == 1,
              bytes[0] == UInt8(ascii: "{") || bytes[0] == UInt8(ascii: "}") else { return nil }
        return bytes[0]
    }
}

/// A piece of a word.
public enum WordPart: Sendable, Hashable {
    /// Bytes as written (escapes already applied; `\xHH` may give any byte).
    case literal([UInt8])
    /// `$name`, `${name.field}`, `${name[2]}`; also `$1`..`$9` and `$#`.
    case variable(VariableReference)
    /// `$(STATEMENT)`: the value of a statement. Indirect, so that the other parts stay
    /// small.
    indirect case command([Statement], SourceLocation)
}

/// A variable and the path into its value.
public struct VariableReference: Sendable, Hashable, CustomStringConvertible {
    /// The variable's name (`info`, `1`, `#`).
    public var name: String
    /// Fields and indexes to follow, in order.
    public var path: [Accessor]

    /// One step into a value.
    public enum Accessor: Sendable, Hashable {
        /// `.field` of a map (reports, INFO, RESP3 maps).
        case field(String)
        /// `[index]` of an array, 0-based; negative counts from the end.
        case index(Int)
    }

    /// `${name.field[1]}` as written.
    public var description: String {
        "${" + name + path.map { step in
            switch step {
            case .field(let f): return "." + f
            case .index(let i): return "[\(i)]"
            }
        }.joined() + "}"
    }
}
