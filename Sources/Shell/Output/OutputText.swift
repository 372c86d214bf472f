import NIOCore
import RESP

/// Bytes being assembled for the terminal. Redis strings are binary, so the formatters write
/// bytes; ``ReplyFormatter/format(_:)`` turns them into a `String` at the very end.
struct OutputBytes {
    var bytes: [UInt8] = []

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func append(_ byte: UInt8) { bytes.append(byte) }
    mutating func append(_ buffer: ByteBuffer) {
        // Through a raw buffer: appending the ByteBufferView as a sequence went byte by byte.
        buffer.withUnsafeReadableBytes { bytes.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
    }
    mutating func append(_ other: OutputBytes) { bytes.append(contentsOf: other.bytes) }
    mutating func append<S: Sequence>(contentsOf seq: S) where S.Element == UInt8 { bytes.append(contentsOf: seq) }

    /// Drops the last byte when it is a newline (redis-cli's `sdsrange(out,0,-2)` for map keys).
    mutating func dropTrailingNewline() {
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// ANSI styles used by the human mode when colour is on. Kept few on purpose.
enum OutputStyle: String {
    /// Errors.
    case red = "\u{1B}[31m"
    /// `(nil)`, `(empty array)`, `-` and other "nothing here" markers.
    case dim = "\u{1B}[2m"
    /// `(integer)`, `(double)`, `(big number)`, `(true)`/`(false)` replies.
    case cyan = "\u{1B}[36m"
    /// Table headers of reports.
    case bold = "\u{1B}[1m"

    static let reset = "\u{1B}[0m"

    /// `text` wrapped in this style when `enabled`, else `text` unchanged.
    func apply(_ text: String, enabled: Bool) -> String {
        enabled ? rawValue + text + OutputStyle.reset : text
    }
}

/// Text helpers shared by the three modes.
enum OutputText {
    /// A double as Redis writes it in RESP3 and redis-cli shows it: `inf`, `-inf`, `nan`,
    /// integral values without a fraction (`3`, `-0`), else Swift's shortest round-trip form
    /// (`1.5`, `1e+20`, `1e-07`).
    static func double(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        if d == d.rounded(), abs(d) < 1e17 { return String(Int64(d)) }
        return String(d)
    }

    /// redis-cli's `sdscatrepr`: the bytes in double quotes, with `\\`, `\"`, `\n`, `\r`, `\t`,
    /// `\a`, `\b` escaped, other printable ASCII as is, and every other byte (control bytes,
    /// DEL, and every byte of a multi-byte UTF-8 sequence) as `\xhh` with lowercase hex.
    static func repr<C: Collection>(_ bytes: C, into out: inout OutputBytes) where C.Element == UInt8 {
        out.append(UInt8(ascii: "\""))
        for b in bytes {
            switch b {
            case UInt8(ascii: "\\"): out.append("\\\\")
            case UInt8(ascii: "\""): out.append("\\\"")
            case UInt8(ascii: "\n"): out.append("\\n")
            case UInt8(ascii: "\r"): out.append("\\r")
            case UInt8(ascii: "\t"): out.append("\\t")
            case 0x07: out.append("\\a")
            case 0x08: out.append("\\b")
            case 0x20...0x7E: out.append(b)
            default:
                out.append("\\x")
                out.append(hexDigit(b >> 4))
                out.append(hexDigit(b & 0x0F))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A string for a report cell: the text unquoted when it is valid UTF-8 without control
    /// characters; otherwise control bytes and invalid UTF-8 bytes are escaped as in ``repr``
    /// (`\n`, `\t`, `\xhh`) so that one value always stays on one line of the table.
    static func plain(_ buffer: ByteBuffer) -> String {
        let view = buffer.readableBytesView
        var clean = true
        for b in view where b < 0x20 || b == 0x7F {
            clean = false
            break
        }
        if clean, let s = String(validating: view, as: UTF8.self) { return s }
        var out = ""
        var bytes = Array(view)[...]
        while !bytes.isEmpty {
            // Take the longest valid UTF-8 prefix of printable characters, escape one byte otherwise.
            let lead = bytes.first!
            let len = utf8SequenceLength(lead)
            if len > 1, bytes.count >= len,
               let s = String(validating: bytes.prefix(len), as: UTF8.self)
            {
                out += s
                bytes = bytes.dropFirst(len)
                continue
            }
            bytes = bytes.dropFirst()
            switch lead {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(lead))
            default:
                out += "\\x"
                out.unicodeScalars.append(Unicode.Scalar(hexDigit(lead >> 4)))
                out.unicodeScalars.append(Unicode.Scalar(hexDigit(lead & 0x0F)))
            }
        }
        return out
    }

    /// Number of columns `text` takes on a terminal, counted in grapheme clusters.
    static func width(_ text: String) -> Int { text.count }

    /// `text` followed by spaces up to `width` columns.
    static func pad(_ text: String, to width: Int) -> String {
        let w = self.width(text)
        return w >= width ? text : text + String(repeating: " ", count: width - w)
    }

    /// `text` preceded by spaces up to `width` columns (redis-cli's `%Nd`).
    static func padLeft(_ text: String, to width: Int) -> String {
        let w = self.width(text)
        return w >= width ? text : String(repeating: " ", count: width - w) + text
    }

    /// Decimal digits needed to write `n` (at least 1).
    static func digitCount(_ n: Int) -> Int {
        var n = n
        var count = 0
        repeat {
            count += 1
            n /= 10
        } while n != 0
        return count
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    private static func utf8SequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }
}
