/// Passwords in what redkeep says back, not only in the lines it echoes: an error message
/// may quote an argument (`Unexpected argument 'redis://u:pw@h'`), and a failed `assert`
/// or `wait-until` shows its operands' values, which may be a password read back
/// (`$(CONFIG GET masterauth)`).
extension SecretFilter {
    /// `message`, about the statement on line `number` of `file` (when known), with its
    /// passwords hidden: those any text can show (password options, URLs with a password)
    /// and every password written in that statement, wherever the message repeats it.
    public static func redactMessage(_ message: String, about number: Int? = nil, of file: SourceFile? = nil) -> String {
        var out = redact(message, commands: false)
        guard let number, let file else { return out }
        for secret in secrets(in: joinedLines(number, of: file).lines.joined(separator: "\n")) {
            out = replacingWhole(secret, in: out)
        }
        return out
    }

    /// The passwords written in `line`, as written and without their quotes, longest first
    /// (so that a password holding another is hidden whole).
    static func secrets(in line: String) -> [String] {
        let bytes = Array(line.utf8)
        var found = Set<String>()
        for span in SecretScan(bytes).spans where !span.isEmpty {
            var text = bytes[span]
            found.insert(String(decoding: text, as: UTF8.self))
            if text.count >= 2, let q = text.first, q == UInt8(ascii: "\"") || q == UInt8(ascii: "'"), text.last == q {
                text = text.dropFirst().dropLast()
                if !text.isEmpty { found.insert(String(decoding: text, as: UTF8.self)) }
            }
        }
        return found.sorted { $0.utf8.count > $1.utf8.count }
    }

    /// A value an operator is shown because a check failed (`assert`, `wait-until`), with
    /// what reads like a password hidden: text that is itself a statement carrying one
    /// (`AUTH alice pw`), a URL or option with one, and the value after a credential's
    /// name in a `CONFIG GET` reply (`masterauth pw`, as `$( )` joins the reply's words).
    public static func redactValue(_ text: String) -> String {
        var out = redact(text)
        let words = out.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count > 1 else { return out }
        var shown: [Substring] = []
        var hideNext = false
        for word in words {
            shown.append(hideNext && !word.isEmpty ? Substring(placeholder) : word)
            hideNext = SecretScan.secretConfig.contains(word.lowercased())
        }
        out = shown.joined(separator: " ")
        return out
    }

    /// `text` with each occurrence of `secret` that is not part of a longer word (letters,
    /// digits, `-` and `_` around it) replaced by the placeholder: a password `ok` is hidden
    /// in `(ok == x)` but `token` stays whole.
    private static func replacingWhole(_ secret: String, in text: String) -> String {
        let needle = Array(secret.utf8)
        let haystack = Array(text.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return text }
        func isWordByte(_ b: UInt8) -> Bool {
            (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x2D || b == 0x5F || b >= 0x80
        }
        var out: [UInt8] = []
        var i = 0
        var changed = false
        while i < haystack.count {
            if i + needle.count <= haystack.count, haystack[i..<i + needle.count].elementsEqual(needle),
               i == 0 || !isWordByte(haystack[i - 1]) || !isWordByte(needle[0]),
               i + needle.count == haystack.count || !isWordByte(haystack[i + needle.count]) || !isWordByte(needle[needle.count - 1]) {
                out += placeholder.utf8
                i += needle.count
                changed = true
            } else {
                out.append(haystack[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }
}
