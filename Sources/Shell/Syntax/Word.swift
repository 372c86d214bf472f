/// One word of a statement, as written: literal bytes and substitutions that the
/// evaluator fills in. A substituted value stays one word (no re-splitting).
public struct Word: Sendable, Hashable {
    /// The pieces, in order.
    public var parts: [WordPart] {
        get {
            switch storage {
            case .source: [.literal(Array(sourceBytes))]
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

    /// Almost every word is one literal piece, and most of those are exactly the bytes
    /// of the source where the word stands (no quotes, escapes or substitutions): those
    /// are kept as a count of the source's bytes, with nothing copied, and the other
    /// literal words without an array of parts around them. Each saved allocation per
    /// word showed in the time and memory a long script takes to parse.
    private var storage: Storage

    private enum Storage: Sendable {
        /// The `count` bytes of the source from the word's location on.
        case source(count: Int)
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

    /// Creates an unquoted word whose bytes are the `count` bytes of the source at
    /// `location`, as they are.
    init(sourceBytes count: Int, at location: SourceLocation) {
        self.storage = .source(count: count)
        self.location = location
        self.isQuoted = false
    }

    private var sourceBytes: ArraySlice<UInt8> {
        guard case .source(let count) = storage else { return [] }
        return location.file.bytes[location.offset..<(location.offset + count)]
    }

    /// True when the word is one literal piece (quoted or not): no substitutions.
    public var isLiteral: Bool {
        if case .parts = storage { return false }
        return true
    }

    /// The bytes when the word is one literal piece (quoted or not), else nil.
    public var literalBytes: [UInt8]? {
        switch storage {
        case .source: Array(sourceBytes)
        case .literal(let bytes): bytes
        case .parts: nil
        }
    }

    /// Calls `body` with the bytes of a word that is one literal piece, copying nothing;
    /// nil when the word has substitutions.
    public func withLiteralBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        switch storage {
        case .source(let count):
            let start = location.offset
            return try location.file.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)])) }
        case .literal(let bytes):
            return try bytes.withUnsafeBytes(body)
        case .parts:
            return nil
        }
    }

    /// The byte count of a word that is one literal piece, else nil.
    public var literalCount: Int? {
        switch storage {
        case .source(let count): count
        case .literal(let bytes): bytes.count
        case .parts: nil
        }
    }

    /// The word's text when it has no substitutions (quoted or not), else nil.
    public var literalText: String? {
        switch storage {
        case .source:
            return String(decoding: sourceBytes, as: UTF8.self)
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
        guard !isQuoted, literalCount == 1, let byte = withLiteralBytes({ $0[0] }),
              byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") else { return nil }
        return byte
    }

    // Equal words have the same pieces, however they are kept.
    public static func == (a: Word, b: Word) -> Bool {
        a.location == b.location && a.isQuoted == b.isQuoted && a.parts == b.parts
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(location)
        hasher.combine(isQuoted)
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
