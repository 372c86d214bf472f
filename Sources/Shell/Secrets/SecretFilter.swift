/// Finds passwords in a statement line, so that history and `record` files never keep
/// one, and hides them where a line is shown back (echo, logs).
///
/// The check is lexical: it splits the line into words the way the shell does (quotes,
/// backslash escapes, `;`, newlines, `{`/`}` blocks, `$(...)`) and then looks at each
/// statement's command, skipping the `let NAME =`, `@name` and `redis` prefixes. It errs
/// on the side of caution: a line that merely looks like it carries a password is kept
/// out of history too, since losing one history entry costs little and a leaked password
/// a lot.
///
/// Recognized secrets:
/// - `AUTH ...` wherever a command can start: at the start of a statement or a block's,
///   inside `$( )`, after `let NAME =`, `@name` and `redis`;
/// - `HELLO ... AUTH user password`;
/// - `CONFIG SET` of `requirepass`, `masterauth`, `masteruser`, `tls-key-file-pass`,
///   `tls-client-key-file-pass` (any pair among several);
/// - `ACL SETUSER` with a `>password`, `<password`, `#hash` or `!hash` rule;
/// - `MIGRATE ... AUTH password` and `AUTH2 user password`;
/// - `SENTINEL SET master auth-pass ...`, `SENTINEL CONFIG SET sentinel-pass ...`;
/// - the options `--password`, `--pass`, `-a` (redis-cli), `--requirepass`, `--masterauth`
///   (also `--option=value`) and `REDISCLI_AUTH=...`, anywhere in a line, even inside a
///   quoted word such as `sh -c "redis-cli -a pw"`;
/// - a URL with a password: `redis://user:pass@host`, `redis://pass@host` (a password for
///   the default user), `rediss://...`, and `scheme://user:pass@` for any scheme.
///
/// Naming where a password is (`--password-env VAR`, `GET password`, `SET auth:token x`)
/// is not a secret.
public enum SecretFilter {
    /// What replaces a password in ``redact(_:)``.
    public static let placeholder = "<secret>"

    /// True when `line` holds (or may hold) a password: such a line must not be written to
    /// history or to a `record` file.
    public static func containsSecret(_ line: String) -> Bool {
        SecretScan(Array(line.utf8)).flagged
    }

    /// `line` with every password replaced by `<secret>`, for echo and logs:
    /// `AUTH alice s3cret` gives `AUTH alice <secret>`, and
    /// `connect m redis://u:pw@h:1` gives `connect m redis://u:<secret>@h:1`.
    /// A line without secrets comes back unchanged.
    public static func redact(_ line: String) -> String {
        redact(line, commands: true)
    }

    /// `line` with its passwords replaced; with `commands` false only the rules that hold
    /// for any text (password options, `REDISCLI_AUTH=`, URLs), for messages, whose first
    /// word is no command.
    static func redact(_ line: String, commands: Bool) -> String {
        let bytes = Array(line.utf8)
        let spans = SecretScan(bytes, commands: commands).spans.sorted { $0.lowerBound < $1.lowerBound }
        guard !spans.isEmpty else { return line }
        var out: [UInt8] = []
        var position = 0
        for span in spans where span.upperBound > position {
            // Overlapping spans (a URL after `--password`) merge into one placeholder.
            if span.lowerBound >= position {
                out += bytes[position..<span.lowerBound]
                out += placeholder.utf8
            }
            position = span.upperBound
        }
        out += bytes[position...]
        return String(decoding: out, as: UTF8.self)
    }

    /// Line `number` of `file` as an error shows it, with its passwords hidden: read
    /// together with the lines a `\` joins it to, since the command that makes a word a
    /// password may be on one of those (`CONFIG SET masterauth \` then `pw $typo`).
    public static func redactedLine(_ number: Int, of file: SourceFile) -> String {
        let (lines, first) = joinedLines(number, of: file)
        guard lines.count > 1 else { return redact(lines[0]) }
        let redacted = redact(lines.joined(separator: "\n")).split(separator: "\n", omittingEmptySubsequences: false)
        // A password spanning a line break (a quoted one): the line alone, then.
        guard redacted.count == lines.count else { return redact(lines[number - first]) }
        return String(redacted[number - first])
    }

    /// Line `number` of `file` with the lines a `\` joins it to (at most 64), and the
    /// number of the first of them.
    static func joinedLines(_ number: Int, of file: SourceFile) -> (lines: [String], first: Int) {
        func continues(_ line: String) -> Bool { line.utf8.last == UInt8(ascii: "\\") }
        var lines = [file.line(number)]
        var first = number
        while first > 1, lines.count < 64, case let previous = file.line(first - 1), continues(previous) {
            lines.insert(previous, at: 0)
            first -= 1
        }
        while lines.count < 64, continues(lines[lines.count - 1]), case let next = file.line(first + lines.count), !next.isEmpty {
            lines.append(next)
        }
        return (lines, first)
    }
}

/// One word of a line: its value (quotes removed, escapes applied) and, for each value
/// byte, the bytes of the line it came from (several for `\x41`), so a secret found in
/// the value can be cut out of the line as written.
private struct SecretWord {
    var value: [UInt8] = []
    var sources: [Range<Int>] = []
    /// The word as written, quotes included.
    var range: Range<Int>
    var isQuoted = false

    /// The value, lowercased (ASCII only: command names and options are ASCII).
    var lowercased: String { String(decoding: value, as: UTF8.self).lowercased() }

    /// The source range of value bytes `from..<value.count`; nil when there are none.
    func sourceRange(from start: Int) -> Range<Int>? {
        sourceRange(start..<value.count)
    }

    /// The source range that holds value bytes `bytes`; nil when empty.
    func sourceRange(_ bytes: Range<Int>) -> Range<Int>? {
        guard !bytes.isEmpty, bytes.upperBound <= sources.count else { return nil }
        return sources[bytes.lowerBound].lowerBound..<sources[bytes.upperBound - 1].upperBound
    }
}

/// Splits a line into statements of words, the way the shell's lexer does, but never
/// fails: unterminated quotes or parentheses simply end at the end of the line.
private struct SecretLexer {
    /// How the next byte is read.
    enum Mode { case plain, single, double }

    /// What was open when a `$(` started, restored at its `)`.
    struct Outer {
        var statement: [SecretWord]
        var word: SecretWord
        var mode: Mode
        /// Where the `$(` is.
        var start: Int
    }

    let bytes: [UInt8]
    private(set) var statements: [[SecretWord]] = []
    private var statement: [SecretWord] = []
    private var word: SecretWord?
    private var outers: [Outer] = []

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        run()
    }

    private mutating func startWord(at i: Int) {
        if word == nil { word = SecretWord(range: i..<i) }
    }

    private mutating func append(_ byte: UInt8, from source: Range<Int>) {
        startWord(at: source.lowerBound)
        word!.value.append(byte)
        word!.sources.append(source)
    }

    private mutating func append(_ byte: UInt8, from i: Int) { append(byte, from: i..<i + 1) }

    private mutating func endWord(at i: Int) {
        guard var w = word else { return }
        w.range = w.range.lowerBound..<i
        word = nil
        // A bare `{` or `}` opens or closes a block: what follows starts a command.
        if !w.isQuoted, w.value == [0x7B] || w.value == [0x7D] {
            endStatement()
        } else {
            statement.append(w)
        }
    }

    private mutating func endStatement() {
        if !statement.isEmpty { statements.append(statement) }
        statement = []
    }

    private mutating func run() {
        var mode = Mode.plain
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            let next: UInt8? = i + 1 < n ? bytes[i + 1] : nil
            switch mode {
            case .single:
                if b == 0x27 { mode = .plain } else { append(b, from: i) }
            case .double:
                if b == 0x22 {
                    mode = .plain
                } else if b == 0x5C, next != nil {
                    i += escape(at: i)
                    continue
                } else if b == 0x24, next == 0x28 {
                    openSubstitution(at: i, mode: .double)
                    mode = .plain
                    i += 2
                    continue
                } else {
                    append(b, from: i)
                }
            case .plain:
                switch b {
                case 0x20, 0x09, 0x0D:
                    endWord(at: i)
                case 0x0A, 0x3B:  // newline, `;`
                    endWord(at: i)
                    endStatement()
                case 0x27, 0x22:
                    startWord(at: i)
                    word!.isQuoted = true
                    mode = b == 0x27 ? .single : .double
                case 0x5C where next == 0x0A:  // line continuation
                    endWord(at: i)
                    i += 2
                    continue
                case 0x5C where next != nil:
                    i += escape(at: i)
                    continue
                case 0x24 where next == 0x28:  // `$(`
                    openSubstitution(at: i, mode: .plain)
                    i += 2
                    continue
                case 0x29 where !outers.isEmpty:  // the `)` of a `$(`
                    mode = closeSubstitution(at: i, through: i + 1)
                default:
                    append(b, from: i)
                }
            }
            i += 1
        }
        while !outers.isEmpty { _ = closeSubstitution(at: n, through: n) }
        endWord(at: n)
        endStatement()
    }

    /// Reads the backslash escape at `i` into the current word; returns its length.
    private mutating func escape(at i: Int) -> Int {
        let c = bytes[i + 1]
        if c == 0x78, i + 3 < bytes.count, let hi = hex(bytes[i + 2]), let lo = hex(bytes[i + 3]) {
            append(hi << 4 | lo, from: i..<i + 4)  // `\xHH`, so `\x41UTH` is still AUTH
            return 4
        }
        append(c, from: i..<i + 2)
        return 2
    }

    private func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// `$(` starts a nested statement; the word around it goes on after the `)`.
    private mutating func openSubstitution(at i: Int, mode: Mode) {
        startWord(at: i)
        outers.append(Outer(statement: statement, word: word!, mode: mode, start: i))
        statement = []
        word = nil
    }

    /// Ends the innermost `$(` at its `)` (`close`; `end` is after it), or at the end of
    /// the line, and goes back to the word around it, where one `$` byte stands for the
    /// substitution's unknown output, so a secret spanning it is cut out whole. Returns
    /// the mode of the outer word.
    private mutating func closeSubstitution(at close: Int, through end: Int) -> Mode {
        endWord(at: close)
        endStatement()
        let outer = outers.removeLast()
        statement = outer.statement
        word = outer.word
        append(0x24, from: outer.start..<end)
        return outer.mode
    }
}

/// The secrets of one line: whether it holds any, and where they are (byte ranges of
/// the line as written, to be replaced by ``SecretFilter/placeholder``).
struct SecretScan {
    private(set) var flagged = false
    private(set) var spans: [Range<Int>] = []

    /// Options whose next word (or `=value`) is a password.
    static let passwordOptions: Set<String> = ["--password", "--pass", "-a", "--requirepass", "--masterauth"]
    /// Environment assignments whose value is a password.
    static let passwordAssignments = ["rediscli_auth="]
    /// `CONFIG SET` parameters that are credentials.
    static let secretConfig: Set<String> = [
        "requirepass", "masterauth", "masteruser", "tls-key-file-pass", "tls-client-key-file-pass",
    ]
    /// URL schemes where a bare `user@` is really a password (`redis://password@host`).
    static let passwordOnlySchemes: Set<String> = ["redis", "rediss", "valkey", "valkeys", "unix"]

    /// Scans `bytes`; with `commands` false, without the rules that depend on a
    /// statement's command.
    init(_ bytes: [UInt8], commands: Bool = true) {
        for statement in SecretLexer(bytes).statements {
            scanOptions(statement, depth: 0)
            if commands { scanCommand(statement) }
        }
    }

    private mutating func flag(_ range: Range<Int>? = nil) {
        flagged = true
        if let range { spans.append(range) }
    }

    /// Marks the whole of word `index` (when there is one) as a secret.
    private mutating func flagWord(_ words: ArraySlice<SecretWord>, _ index: Int) {
        flag(words.indices.contains(index) ? words[index].range : nil)
    }

    /// Rules that apply to any word: password options, assignments and URLs. A quoted
    /// word with spaces is scanned as a line of its own (`sh -c "redis-cli -a pw"`).
    private mutating func scanOptions(_ words: [SecretWord], depth: Int) {
        for (k, word) in words.enumerated() {
            let lower = word.lowercased
            if Self.passwordOptions.contains(lower) {
                flagWord(words[...], k + 1)
            } else if let eq = lower.firstIndex(of: "="),
                Self.passwordOptions.contains(String(lower[..<eq])) || Self.passwordAssignments.contains(String(lower[...eq]))
            {
                flag(word.sourceRange(from: lower.utf8.distance(from: lower.startIndex, to: eq) + 1))
            }
            scanURLs(word)
            if depth < 2, word.isQuoted, word.value.contains(0x20) {
                var inner = SecretScan([])
                for statement in SecretLexer(word.value).statements { inner.scanOptions(statement, depth: depth + 1) }
                if inner.flagged { flag() }
                for span in inner.spans { if let r = word.sourceRange(span) { flag(r) } }
            }
        }
    }

    /// `scheme://user:password@host` (and `redis://password@host`) inside `word`.
    private mutating func scanURLs(_ word: SecretWord) {
        let v = word.value
        let marker: [UInt8] = Array("://".utf8)
        var starts: [Int] = []
        var i = 0
        while i + 3 <= v.count {
            if v[i] == marker[0], v[i + 1] == marker[1], v[i + 2] == marker[2] { starts.append(i) }
            i += 1
        }
        for (n, colon) in starts.enumerated() {
            var schemeStart = colon
            while schemeStart > 0, isSchemeByte(v[schemeStart - 1]) { schemeStart -= 1 }
            let scheme = String(decoding: v[schemeStart..<colon], as: UTF8.self).lowercased()
            let authority = colon + 3
            // The URL ends where the next one starts; a password may hold `/`, so the
            // userinfo ends at the last `@`.
            let end = n + 1 < starts.count ? starts[n + 1] : v.count
            guard authority < end, let at = v[authority..<end].lastIndex(of: 0x40) else { continue }
            if let sep = v[authority..<at].firstIndex(of: 0x3A) {
                if sep + 1 < at { flag(word.sourceRange(sep + 1..<at)) }
            } else if Self.passwordOnlySchemes.contains(scheme), authority < at {
                flag(word.sourceRange(authority..<at))
            }
        }
    }

    private func isSchemeByte(_ b: UInt8) -> Bool {
        (0x61...0x7A).contains(b) || (0x41...0x5A).contains(b) || (0x30...0x39).contains(b)
            || b == 0x2B || b == 0x2D || b == 0x2E
    }

    /// Rules that depend on the command: the first word after the prefixes that put a
    /// command further on (`let NAME =`, `@name`, `redis`, in any order and number:
    /// `let r = @m redis CONFIG SET masterauth pw`).
    private mutating func scanCommand(_ statement: [SecretWord]) {
        var start = 0
        while start < statement.count {
            let lower = statement[start].lowercased
            if lower == "redis" || (lower.hasPrefix("@") && lower.count > 1) {
                start += 1
            } else if lower == "let" {
                // `let NAME = CMD`; a mistyped `let NAME CMD` is shown back in its error too.
                start += 2
                if start < statement.count, statement[start].value == [0x3D] { start += 1 }  // `=`
            } else {
                break
            }
        }
        guard start < statement.count else { return }
        let name = statement[start].lowercased
        let args = Array(statement[(start + 1)...])
        let lower = args.map(\.lowercased)
        let a = args[...]
        switch name {
        case "auth":
            // AUTH password | AUTH user password: everything after the user is secret.
            flag()
            for k in (args.count >= 2 ? 1 : 0)..<args.count { flagWord(a, k) }
        case "hello":
            // HELLO [protover [AUTH username password] [SETNAME name]]: walk the options,
            // so a client named `auth` is not taken for one.
            var k = 0
            while k < args.count {
                switch lower[k] {
                case "auth":
                    flagWord(a, k + 2 < args.count ? k + 2 : k + 1)
                    k += 3
                case "setname": k += 2
                default: k += 1
                }
            }
        case "config" where lower.first == "set":
            for (k, word) in lower.enumerated().dropFirst() where Self.secretConfig.contains(word) {
                flagWord(a, k + 1)
            }
        case "acl" where lower.first == "setuser":
            // Rules after the user name: `>pass` adds and `<pass` removes a password,
            // `#hash` and `!hash` do the same with its SHA-256.
            for k in args.indices.dropFirst(2) {
                guard let first = args[k].value.first, [0x3E, 0x3C, 0x23, 0x21].contains(first) else { continue }
                flag(args[k].sourceRange(from: 1))
            }
        case "migrate":
            // MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS ...]
            for k in lower.indices.dropFirst(5) {
                if lower[k] == "keys" { break }
                if lower[k] == "auth" { flagWord(a, k + 1) }
                if lower[k] == "auth2" { flagWord(a, k + 2) }
            }
        case "sentinel":
            // SENTINEL SET master auth-pass pw; SENTINEL CONFIG SET sentinel-pass pw
            for (k, word) in lower.enumerated() where word == "auth-pass" || word == "sentinel-pass" {
                if lower.first == "set" || lower.prefix(2) == ["config", "set"] { flagWord(a, k + 1) }
            }
        default:
            break
        }
    }
}
