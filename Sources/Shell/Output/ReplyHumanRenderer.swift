import NIOCore
import RESP

/// redis-cli's terminal look (`cliFormatReplyTTY` in redis-cli.c, Redis 7), for Redis replies.
struct ReplyHumanRenderer {
    /// ANSI colours on.
    var color: Bool

    /// Appends `value` as redis-cli prints it; `prefix` is the indentation of the lines after
    /// the first one (the caller has already written the first line's index).
    func render(_ value: RESPValue, prefix: String, into out: inout OutputBytes) {
        switch value {
        case .simpleError(let b), .bulkError(let b):
            if color { out.append(OutputStyle.red.rawValue) }
            out.append("(error) ")
            out.append(b)
            if color { out.append(OutputStyle.reset) }
            out.append("\n")
        case .simpleString(let b):
            out.append(b)
            out.append("\n")
        case .integer(let i):
            out.append(OutputStyle.cyan.apply("(integer) \(i)", enabled: color))
            out.append("\n")
        case .double(let d):
            out.append(OutputStyle.cyan.apply("(double) \(OutputText.double(d))", enabled: color))
            out.append("\n")
        case .bigNumber(let digits):
            out.append(OutputStyle.cyan.apply("(big number) \(digits)", enabled: color))
            out.append("\n")
        case .bulkString(let b):
            OutputText.repr(b.readableBytesView, into: &out)
            out.append("\n")
        case .verbatimString(_, let text):
            out.append(text)
            out.append("\n")
        case .null:
            out.append(OutputStyle.dim.apply("(nil)", enabled: color))
            out.append("\n")
        case .boolean(let flag):
            out.append(OutputStyle.cyan.apply(flag ? "(true)" : "(false)", enabled: color))
            out.append("\n")
        case .attributed(_, let inner):
            // hiredis (so redis-cli) cannot read attributes; show the value they describe.
            render(inner, prefix: prefix, into: &out)
        case .array(let items):
            renderList(items, separator: ")", empty: "(empty array)", prefix: prefix, into: &out)
        case .set(let items):
            renderList(items, separator: "~", empty: "(empty set)", prefix: prefix, into: &out)
        case .push(let items):
            // redis-cli numbers push messages like arrays (its `>` separator is a TODO there).
            renderList(items, separator: ")", empty: "(empty push)", prefix: prefix, into: &out)
        case .map(let pairs):
            renderMap(pairs, prefix: prefix, into: &out)
        }
    }

    private func renderList(
        _ items: [RESPValue], separator: Character, empty: String, prefix: String, into out: inout OutputBytes
    ) {
        guard !items.isEmpty else {
            out.append(OutputStyle.dim.apply(empty, enabled: color))
            out.append("\n")
            return
        }
        let indexWidth = OutputText.digitCount(items.count)
        let childPrefix = prefix + String(repeating: " ", count: indexWidth + 2)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(prefix) }
            out.append(OutputText.padLeft(String(i + 1), to: indexWidth))
            out.append("\(separator) ")
            render(item, prefix: childPrefix, into: &out)
        }
    }

    private func renderMap(_ pairs: [RESPPair], prefix: String, into out: inout OutputBytes) {
        guard !pairs.isEmpty else {
            out.append(OutputStyle.dim.apply("(empty hash)", enabled: color))
            out.append("\n")
            return
        }
        let indexWidth = OutputText.digitCount(pairs.count)
        let childPrefix = prefix + String(repeating: " ", count: indexWidth + 2)
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.append(prefix) }
            out.append(OutputText.padLeft(String(i + 1), to: indexWidth))
            out.append("# ")
            render(pair.key, prefix: childPrefix, into: &out)
            out.dropTrailingNewline()
            out.append(" => ")
            if ReplyHumanRenderer.isMultiline(pair.value) {
                // redis-cli breaks the line before a multi-line value to keep it aligned.
                out.append("\n")
                out.append(childPrefix)
            }
            render(pair.value, prefix: childPrefix, into: &out)
        }
    }

    /// redis-cli's `cliIsMultilineValueTTY`: whether the value takes more than one line.
    static func isMultiline(_ value: RESPValue) -> Bool {
        switch value {
        case .array(let items), .set(let items), .push(let items):
            if items.isEmpty { return false }
            if items.count > 1 { return true }
            return isMultiline(items[0])
        case .map(let pairs):
            if pairs.isEmpty { return false }
            if pairs.count > 1 { return true }
            return isMultiline(pairs[0].value)
        case .attributed(_, let inner):
            return isMultiline(inner)
        default:
            return false
        }
    }
}
