import Operations
import RESP

/// A condition of `if`, `assert` and `wait-until`, parsed from words before they are
/// expanded, so that `wait-until` can evaluate it again and again.
///
/// Grammar, loosest first: `E or E`, `E and E`, `not E`, `A OP B` with OP one of
/// `== != < <= > >= contains matches`, `exists NAME`, `( E )`, or a single operand
/// (true unless nil, empty, 0, false or no). Operators and parentheses are bare words;
/// a quoted `"=="` is an operand. Comparisons are numeric when both sides are numbers.
indirect enum Expression: Sendable {
    case operand(Word)
    case compare(Word, String, Word)
    case exists(String, SourceLocation)
    case not(Expression)
    case and(Expression, Expression)
    case or(Expression, Expression)

    static let comparisons: Set<String> = ["==", "!=", "<", "<=", ">", ">=", "contains", "matches"]

    /// Parses `words` as one expression; with `allowTrailing`, one extra word after a
    /// complete expression is returned (assert's message).
    static func parse(_ words: [Word], allowTrailing: Bool, at location: SourceLocation) throws(ShellError) -> (Expression, Word?) {
        guard !words.isEmpty else { throw ShellError(.usage, "missing condition", at: location) }
        var parser = ExpressionParser(words: words)
        let expression = try parser.parseOr()
        if parser.index < words.count {
            if allowTrailing && parser.index == words.count - 1 {
                return (expression, words[parser.index])
            }
            let word = words[parser.index]
            throw ShellError(.syntax, "unexpected \"\(word.literalText ?? "word")\" in the condition; join words with and/or, compare with == != < <= > >= contains matches", at: word.location)
        }
        return (expression, nil)
    }
}

private struct ExpressionParser {
    let words: [Word]
    var index = 0

    private func peek() -> String? { index < words.count ? words[index].bareText : nil }

    mutating func parseOr() throws(ShellError) -> Expression {
        var left = try parseAnd()
        while peek() == "or" {
            index += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws(ShellError) -> Expression {
        var left = try parseNot()
        while peek() == "and" {
            index += 1
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws(ShellError) -> Expression {
        if peek() == "not" {
            index += 1
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    mutating func parsePrimary() throws(ShellError) -> Expression {
        guard index < words.count else {
            throw ShellError(.syntax, "the condition ends too soon", at: words.last?.location)
        }
        let word = words[index]
        switch word.bareText {
        case "(":
            index += 1
            let inner = try parseOr()
            guard peek() == ")" else { throw ShellError(.syntax, "missing ) in the condition", at: word.location) }
            index += 1
            return inner
        case "exists":
            guard index + 1 < words.count, let name = words[index + 1].bareText else {
                throw ShellError(.syntax, "exists needs a variable name: exists NAME", at: word.location)
            }
            index += 2
            return .exists(name.hasPrefix("$") ? String(name.dropFirst()) : name, word.location)
        case ")", "and", "or":
            throw ShellError(.syntax, "expected a value before \"\(word.bareText!)\"", at: word.location)
        default:
            index += 1
            if let op = peek(), Expression.comparisons.contains(op) {
                guard index + 1 < words.count else {
                    throw ShellError(.syntax, "\(op) needs a value on its right", at: words[index].location)
                }
                let right = words[index + 1]
                index += 2
                return .compare(word, op, right)
            }
            return .operand(word)
        }
    }
}

/// Compares two values as the language does: as numbers when both are numbers, else as
/// text; `contains` is a substring test, `matches` a Redis-style glob.
func compare(_ left: RESPValue, _ op: String, _ right: RESPValue) -> Bool {
    let l = left.string ?? String(decoding: left.substitutionBytes ?? [], as: UTF8.self)
    let r = right.string ?? String(decoding: right.substitutionBytes ?? [], as: UTF8.self)
    switch op {
    case "contains": return l.contains(r)
    case "matches": return Glob.matches(r, l)
    default: break
    }
    if let a = Double(l), let b = Double(r) {
        switch op {
        case "==": return a == b
        case "!=": return a != b
        case "<": return a < b
        case "<=": return a <= b
        case ">": return a > b
        default: return a >= b
        }
    }
    switch op {
    case "==": return l == r
    case "!=": return l != r
    case "<": return l < r
    case "<=": return l <= r
    case ">": return l > r
    default: return l >= r
    }
}
