import NIOCore
import RESP

/// redis-cli's `--raw` look (`cliFormatReplyRaw` in redis-cli.c, Redis 7), and `path:value`
/// lines for reports.
enum ReplyRawRenderer {
    /// Appends `value` as `cliFormatReplyRaw` does, without the final newline (the caller adds it).
    static func render(_ value: RESPValue, into out: inout OutputBytes) {
        switch value {
        case .null:
            break
        case .simpleError(let b), .bulkError(let b):
            out.append(b)
            out.append("\n")
        case .simpleString(let b), .bulkString(let b):
            out.append(b)
        case .verbatimString(_, let text):
            out.append(text)
        case .boolean(let flag):
            out.append(flag ? "(true)" : "(false)")
        case .integer(let i):
            out.append(String(i))
        case .double(let d):
            out.append(OutputText.double(d))
        case .bigNumber(let digits):
            out.append(digits)
        case .attributed(_, let inner):
            render(inner, into: &out)
        case .array(let items), .set(let items), .push(let items):
            for (i, item) in items.enumerated() {
                if i > 0 { out.append("\n") }
                render(item, into: &out)
            }
        case .map(let pairs):
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out.append("\n") }
                render(pair.key, into: &out)
                out.append(" ")
                render(pair.value, into: &out)
            }
        }
    }

    /// Appends a report (or a list of reports) as `path:value` lines, each ending in a newline.
    ///
    /// This is redkeep's own choice, modelled on `INFO`: one field per line, easy to `grep` and
    /// `cut -d: -f2-`. Nested maps extend the path with `.key`, arrays with `.0`, `.1`...
    static func renderReport(_ value: RESPValue, into out: inout OutputBytes) {
        flatten(value, path: [], into: &out)
    }

    private static func flatten(_ value: RESPValue, path: [UInt8], into out: inout OutputBytes) {
        switch ReplyFormatter.unwrap(value) {
        case .map(let pairs) where !pairs.isEmpty:
            for pair in pairs {
                flatten(pair.value, path: join(path, segment(pair.key)), into: &out)
            }
        case .array(let items) where !items.isEmpty,
             .set(let items) where !items.isEmpty,
             .push(let items) where !items.isEmpty:
            for (i, item) in items.enumerated() {
                flatten(item, path: join(path, Array(String(i).utf8)), into: &out)
            }
        case .array, .set, .push, .map:
            line(path: path, value: [], into: &out)
        case let scalar:
            line(path: path, value: scalarBytes(scalar), into: &out)
        }
    }

    /// The raw text of a report value: nil is empty, booleans `yes`/`no`, errors their message.
    private static func scalarBytes(_ value: RESPValue) -> [UInt8] {
        switch value {
        case .null: return []
        case .boolean(let flag): return Array((flag ? "yes" : "no").utf8)
        case .simpleError(let b), .bulkError(let b): return Array(b.readableBytesView)
        default:
            var tmp = OutputBytes()
            render(value, into: &tmp)
            return tmp.bytes
        }
    }

    /// A path segment for a map key: its raw text (aggregates flattened as in raw mode).
    private static func segment(_ key: RESPValue) -> [UInt8] { scalarBytes(key) }

    private static func join(_ path: [UInt8], _ segment: [UInt8]) -> [UInt8] {
        path.isEmpty ? segment : path + [UInt8(ascii: ".")] + segment
    }

    /// `path:value\n`, with CR and LF in either written `\r` and `\n`.
    private static func line(path: [UInt8], value: [UInt8], into out: inout OutputBytes) {
        appendEscapingNewlines(path, into: &out)
        out.append(UInt8(ascii: ":"))
        appendEscapingNewlines(value, into: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private static func appendEscapingNewlines(_ bytes: [UInt8], into out: inout OutputBytes) {
        for b in bytes {
            switch b {
            case UInt8(ascii: "\n"): out.append("\\n")
            case UInt8(ascii: "\r"): out.append("\\r")
            default: out.append(b)
            }
        }
    }
}
