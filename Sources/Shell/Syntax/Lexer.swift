/// A token of the redkeep language.
enum Token: Sendable {
    case word(Word)
    /// A newline or `;`.
    case separator(SourceLocation)
    /// A `{` standing alone.
    case open(SourceLocation)
    /// A `}` standing alone.
    case close(SourceLocation)

    /// Where the token starts.
    var location: SourceLocation {
        switch self {
        case .word(let word): word.location
        case .separator(let location), .open(let location), .close(let location): location
        }
    }
}

/// Splits source text into words, separators and braces.
///
/// - Blanks separate words; a newline or `;` ends a statement; `\` at the end of a line
///   continues it.
/// - `"double quotes"` take redis-cli's escapes (`\n \r \t \b \a \" \\ \$ \xHH`; any other
///   escaped character stands for itself) and substitutions; `'single quotes'` are
///   literal except `\'`.
/// - `#` at the start of a word starts a comment.
/// - `{` and `}` are braces only when they stand alone and unquoted (`user:{42}` is a word).
/// - `$name`, `${name.field[2]}`, `$1`..`$9`, `$#` and `$(statement)` are substitutions,
///   in bare words and inside double quotes.
struct Lexer {
    let file: SourceFile
    private let b: [UInt8]
    private var pos: Int
    private let end: Int
    /// The levels open around what is lexed now (``Parser/maxNesting``): the `$( )` this
    /// lexer reads the inside of, and the blocks its parser has open. A `$(` one level
    /// past the bound is an error before its inside is read.
    var nesting: Int

    /// Lexes `file`, or the part `range` of it (for `$(...)`, `nesting` levels deep).
    init(file: SourceFile, range: Range<Int>? = nil, nesting: Int = 0) {
        self.file = file
        self.b = file.bytes
        self.pos = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? file.bytes.count
        self.nesting = nesting
    }

    /// The next token, or nil at the end of the source.
    mutating func next() throws(ShellError) -> Token? {
        while true {
            skipBlanks()
            guard pos < end else { return nil }
            let c = b[pos]
            if c == UInt8(ascii: "\n") || c == UInt8(ascii: ";") {
                let separator = here()
                advance()
                return .separator(separator)
            }
            if c == UInt8(ascii: "#") {
                while pos < end && b[pos] != UInt8(ascii: "\n") { pos += 1 }
                continue
            }
            let word = try readWord()
            switch word.loneBrace {
            case UInt8(ascii: "{"): return .open(word.location)
            case UInt8(ascii: "}"): return .close(word.location)
            default: return .word(word)
            }
        }
    }

    // MARK: - Positions

    private func here() -> SourceLocation { location(at: pos) }

    private func location(at offset: Int) -> SourceLocation { SourceLocation(file: file, offset: offset) }

    /// Moves past one byte.
    private mutating func advance() {
        pos += 1
    }

    private func isLineEnd(_ i: Int) -> Bool {
        i < end && (b[i] == UInt8(ascii: "\n") || (b[i] == UInt8(ascii: "\r") && i + 1 < end && b[i + 1] == UInt8(ascii: "\n")))
    }

    /// Skips spaces, tabs, CRs before a newline, and `\`-newline continuations.
    private mutating func skipBlanks() {
        while pos < end {
            let c = b[pos]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || (c == UInt8(ascii: "\r") && isLineEnd(pos)) {
                pos += 1
            } else if c == UInt8(ascii: "\\") && isLineEnd(pos + 1) {
                pos += 1
                if b[pos] == UInt8(ascii: "\r") { pos += 1 }
                advance()
            } else if c == UInt8(ascii: "\\") && pos + 1 == end {
                // A continuation at the very end: the statement goes on in the next line.
                return
            } else {
                return
            }
        }
    }

    // MARK: - Words

    private mutating func readWord() throws(ShellError) -> Word {
        let start = here()
        var parts: [WordPart] = []
        var literal: [UInt8] = []
        var quoted = false
        // While true, the word so far is exactly the source's bytes from its start to
        // `pos`, and nothing is copied: the word will refer to the source (most words).
        var verbatim = true
        func copySoFar(upTo end: Int) {
            if verbatim { literal = Array(b[start.offset..<end]); verbatim = false }
        }
        func flush() {
            copySoFar(upTo: pos)
            if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
        }
        while pos < end {
            let c = b[pos]
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: ";")
                || (c == UInt8(ascii: "\r") && isLineEnd(pos)) {
                break
            }
            switch c {
            case UInt8(ascii: "\""):
                quoted = true
                flush()
                parts += try readDoubleQuoted()
            case UInt8(ascii: "'"):
                quoted = true
                copySoFar(upTo: pos)
                literal += try readSingleQuoted()
            case UInt8(ascii: "$"):
                let dollar = pos
                if let part = try readDollar() {
                    // The substitution is read; what came before it is the literal so far.
                    copySoFar(upTo: dollar)
                    flush()
                    parts.append(part)
                } else {
                    if !verbatim { literal.append(c) }
                    pos += 1
                }
            case UInt8(ascii: "\\"):
                if isLineEnd(pos + 1) {
                    // A continuation inside a word ends the word; the next line goes on.
                    flush()
                    return Word(parts: parts, location: start, isQuoted: quoted)
                }
                if pos + 1 == end {
                    throw ShellError(.incomplete, "the statement continues (\\) past the end of the input", at: here())
                }
                if !verbatim { literal.append(c) }
                pos += 1
            default:
                // A run of ordinary bytes at once: most words are nothing else.
                var runEnd = pos + 1
                while runEnd < end && Self.isOrdinary(b[runEnd]) { runEnd += 1 }
                if !verbatim { literal.append(contentsOf: b[pos..<runEnd]) }
                pos = runEnd
            }
        }
        if verbatim { return Word(sourceBytes: pos - start.offset, at: start) }
        if parts.isEmpty { return Word(literal: literal, location: start, isQuoted: quoted) }
        flush()
        return Word(parts: parts, location: start, isQuoted: quoted)
    }

    /// True for a byte that neither ends a word nor starts a quote, escape or substitution.
    private static func isOrdinary(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: ";"), UInt8(ascii: "\r"),
             UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "$"), UInt8(ascii: "\\"):
            return false
        default:
            return true
        }
    }

    private mutating func readSingleQuoted() throws(ShellError) -> [UInt8] {
        let open = here()
        pos += 1
        var out: [UInt8] = []
        while pos < end {
            let c = b[pos]
            if c == UInt8(ascii: "'") {
                pos += 1
                return out
            }
            if c == UInt8(ascii: "\\") && pos + 1 < end && b[pos + 1] == UInt8(ascii: "'") {
                out.append(UInt8(ascii: "'"))
                pos += 2
                continue
            }
            out.append(c)
            advance()
        }
        throw ShellError(.incomplete, "unterminated single quote", at: open)
    }

    private mutating func readDoubleQuoted() throws(ShellError) -> [WordPart] {
        let open = here()
        pos += 1
        var parts: [WordPart] = []
        var literal: [UInt8] = []
        while pos < end {
            let c = b[pos]
            if c == UInt8(ascii: "\"") {
                pos += 1
                // An empty "" still makes a word part, so `SET k ""` sends an empty string.
                if !literal.isEmpty || parts.isEmpty { parts.append(.literal(literal)) }
                return parts
            }
            if c == UInt8(ascii: "$") {
                if let part = try readDollar() {
                    if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
                    parts.append(part)
                } else {
                    literal.append(c)
                    pos += 1
                }
                continue
            }
            if c == UInt8(ascii: "\\") && pos + 1 < end {
                let e = b[pos + 1]
                switch e {
                case UInt8(ascii: "n"): literal.append(0x0A)
                case UInt8(ascii: "r"): literal.append(0x0D)
                case UInt8(ascii: "t"): literal.append(0x09)
                case UInt8(ascii: "b"): literal.append(0x08)
                case UInt8(ascii: "a"): literal.append(0x07)
                case UInt8(ascii: "x"):
                    guard pos + 3 < end, let hi = hex(b[pos + 2]), let lo = hex(b[pos + 3]) else {
                        throw ShellError(.syntax, "invalid escape: \\x must be followed by two hex digits", at: here())
                    }
                    literal.append(hi << 4 | lo)
                    pos += 4
                    continue
                case UInt8(ascii: "\n"):
                    // Backslash-newline inside quotes joins the lines.
                    pos += 1
                    advance()
                    continue
                default:
                    literal.append(e)
                }
                pos += 2
                continue
            }
            literal.append(c)
            advance()
        }
        throw ShellError(.incomplete, "unterminated double quote", at: open)
    }

    private func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    // MARK: - Substitutions

    private static func isNameStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
    }

    private static func isNameByte(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
    }

    /// Reads a substitution at `$`, or returns nil (moving nothing) when `$` is literal.
    private mutating func readDollar() throws(ShellError) -> WordPart? {
        let dollar = here()
        guard pos + 1 < end else { return nil }
        let c = b[pos + 1]
        if c == UInt8(ascii: "(") {
            return try readCommandSubstitution()
        }
        if c == UInt8(ascii: "{") {
            guard let close = b[(pos + 2)..<end].firstIndex(of: UInt8(ascii: "}")) else {
                throw ShellError(.incomplete, "unterminated ${: no closing }", at: dollar)
            }
            let inner = String(decoding: b[(pos + 2)..<close], as: UTF8.self)
            let reference = try Self.parseReference(inner, at: dollar)
            pos = close + 1
            return .variable(reference)
        }
        if c == UInt8(ascii: "#") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
            pos += 2
            return .variable(VariableReference(name: String(UnicodeScalar(c)), path: []))
        }
        if Self.isNameStart(c) {
            var i = pos + 1
            while i < end && Self.isNameByte(b[i]) { i += 1 }
            let name = String(decoding: b[(pos + 1)..<i], as: UTF8.self)
            pos = i
            return .variable(VariableReference(name: name, path: []))
        }
        return nil
    }

    /// `name`, `name.field`, `name[2]`, `name.replicas[0].lag` inside `${...}`.
    static func parseReference(_ text: String, at location: SourceLocation) throws(ShellError) -> VariableReference {
        let bytes = Array(text.utf8)
        var i = 0
        func fail(_ why: String) -> ShellError {
            ShellError(.syntax, "invalid variable reference ${\(text)}: \(why)", at: location)
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "#") || (bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9"))) {
            guard bytes.count == 1 else { throw fail("$# and $0..$9 take no fields") }
            return VariableReference(name: text, path: [])
        }
        guard i < bytes.count, isNameStart(bytes[i]) else { throw fail("a name starts with a letter or _") }
        while i < bytes.count && isNameByte(bytes[i]) { i += 1 }
        var reference = VariableReference(name: String(decoding: bytes[0..<i], as: UTF8.self), path: [])
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ".") {
                var j = i + 1
                while j < bytes.count && bytes[j] != UInt8(ascii: ".") && bytes[j] != UInt8(ascii: "[") { j += 1 }
                guard j > i + 1 else { throw fail("empty field name after '.'") }
                reference.path.append(.field(String(decoding: bytes[(i + 1)..<j], as: UTF8.self)))
                i = j
            } else if bytes[i] == UInt8(ascii: "[") {
                guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "]")),
                      let index = Int(String(decoding: bytes[(i + 1)..<close], as: UTF8.self)) else {
                    throw fail("expected [NUMBER]")
                }
                reference.path.append(.index(index))
                i = close + 1
            } else {
                throw fail("unexpected \"\(Character(UnicodeScalar(bytes[i])))\"")
            }
        }
        return reference
    }

    /// `$(STATEMENT)`: finds the matching `)` (skipping quoted text and nested parentheses)
    /// and parses what is inside.
    private mutating func readCommandSubstitution() throws(ShellError) -> WordPart {
        let dollar = here()
        // Checked before the inside is looked for: each level scans to its `)`.
        guard nesting < Parser.maxNesting else { throw Parser.tooDeep(at: dollar) }
        let innerStart = pos + 2
        var i = innerStart
        var depth = 1
        var quote: UInt8? = nil
        while i < end {
            let c = b[i]
            if let q = quote {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == q { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "(") {
                depth += 1
            } else if c == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 { break }
            }
            i += 1
        }
        guard i < end else { throw ShellError(.incomplete, "unterminated $( : no closing )", at: dollar) }
        var parser = Parser(lexer: Lexer(file: file, range: innerStart..<i, nesting: nesting + 1))
        let statements = try parser.parseAll()
        guard !statements.isEmpty else { throw ShellError(.syntax, "empty $( )", at: dollar) }
        pos = i + 1
        return .command(statements, dollar)
    }
}
