import NIOCore
import RESP

/// One JSON document for a value, on one line (without the final newline).
enum ReplyJSONRenderer {
    static func render(_ value: RESPValue, into out: inout OutputBytes) {
        switch value {
        case .simpleString(let b), .bulkString(let b):
            string(b, into: &out)
        case .verbatimString(_, let text):
            string(text, into: &out)
        case .simpleError(let b), .bulkError(let b):
            out.append("{\"error\":")
            string(b, into: &out)
            out.append("}")
        case .integer(let i):
            out.append(String(i))
        case .double(let d):
            if d.isFinite {
                out.append(OutputText.double(d))
            } else {
                out.append("\"\(OutputText.double(d))\"")
            }
        case .bigNumber(let digits):
            out.append("\"\(digits)\"")
        case .null:
            out.append("null")
        case .boolean(let flag):
            out.append(flag ? "true" : "false")
        case .attributed(_, let inner):
            render(inner, into: &out)
        case .array(let items), .set(let items), .push(let items):
            out.append("[")
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(",") }
                render(item, into: &out)
            }
            out.append("]")
        case .map(let pairs):
            if pairs.allSatisfy({ isStringKey($0.key) }) {
                out.append("{")
                for (i, pair) in pairs.enumerated() {
                    if i > 0 { out.append(",") }
                    render(pair.key, into: &out)
                    out.append(":")
                    render(pair.value, into: &out)
                }
                out.append("}")
            } else {
                out.append("[")
                for (i, pair) in pairs.enumerated() {
                    if i > 0 { out.append(",") }
                    out.append("[")
                    render(pair.key, into: &out)
                    out.append(",")
                    render(pair.value, into: &out)
                    out.append("]")
                }
                out.append("]")
            }
        }
    }

    /// Keys that can be JSON object keys as they are: simple, bulk and verbatim strings.
    private static func isStringKey(_ key: RESPValue) -> Bool {
        switch ReplyFormatter.unwrap(key) {
        case .simpleString, .bulkString, .verbatimString: return true
        default: return false
        }
    }

    /// A JSON string for the bytes: invalid UTF-8 becomes U+FFFD; `"` and `\` are escaped, so
    /// are control characters (`\b`, `\f`, `\n`, `\r`, `\t`, else `\u00hh`) and DEL (`\u007f`);
    /// every other character, non-ASCII included, is written as UTF-8.
    static func string(_ buffer: ByteBuffer, into out: inout OutputBytes) {
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append("\\\"")
            case UInt8(ascii: "\\"): out.append("\\\\")
            case 0x08: out.append("\\b")
            case 0x0C: out.append("\\f")
            case UInt8(ascii: "\n"): out.append("\\n")
            case UInt8(ascii: "\r"): out.append("\\r")
            case UInt8(ascii: "\t"): out.append("\\t")
            case 0x00..<0x20, 0x7F:
                out.append("\\u00")
                out.append(hex(byte >> 4))
                out.append(hex(byte & 0x0F))
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
