import NIOCore

/// One RESP2 or RESP3 value, as a Redis server sends it or a client encodes it.
///
/// String-like payloads are kept as `ByteBuffer` because Redis strings are binary-safe;
/// decoded values share storage with the buffer they were read from (no copy).
public enum RESPValue: Sendable, Hashable {
    /// `+OK` (RESP2 and RESP3).
    case simpleString(ByteBuffer)
    /// `-ERR message` (RESP2 and RESP3).
    case simpleError(ByteBuffer)
    /// `:42` (RESP2 and RESP3).
    case integer(Int64)
    /// `$3 foo` (RESP2 and RESP3).
    case bulkString(ByteBuffer)
    /// RESP2's `$-1` and `*-1`, RESP3's `_`.
    case null
    /// `*N` followed by N values.
    case array([RESPValue])
    /// RESP3 `,3.14` (also `inf`, `-inf`, `nan`).
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)
    /// RESP3 `(12345...`: kept as its decimal digits.
    case bigNumber(String)
    /// RESP3 `!N` binary-safe error.
    case bulkError(ByteBuffer)
    /// RESP3 `=N txt:...`: a three-letter format and the text.
    case verbatimString(format: String, text: ByteBuffer)
    /// RESP3 `%N` followed by N key/value pairs, in the order received.
    case map([RESPPair])
    /// RESP3 `~N` followed by N values.
    case set([RESPValue])
    /// RESP3 `>N` out-of-band push (pub/sub messages, client-side caching invalidations).
    case push([RESPValue])
    /// RESP3 `|N` attributes followed by the value they describe.
    indirect case attributed(attributes: [RESPPair], value: RESPValue)
}

/// One key/value pair of a RESP3 map or attribute.
public struct RESPPair: Sendable, Hashable {
    /// The key, often a bulk or simple string.
    public var key: RESPValue
    /// The value stored under ``key``.
    public var value: RESPValue

    /// Creates a pair.
    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// A bulk string holding the UTF-8 bytes of `string`.
    public static func bulk(_ string: String) -> RESPValue {
        .bulkString(ByteBuffer(string: string))
    }

    /// A simple string holding `string` (which must not contain CR or LF).
    public static func simple(_ string: String) -> RESPValue {
        .simpleString(ByteBuffer(string: string))
    }

    /// A simple error holding `message` (for example `"ERR unknown command"`).
    public static func error(_ message: String) -> RESPValue {
        .simpleError(ByteBuffer(string: message))
    }

    /// True for simple and bulk errors.
    public var isError: Bool {
        switch self {
        case .simpleError, .bulkError: return true
        default: return false
        }
    }

    /// The error text of a simple or bulk error, else nil.
    public var errorMessage: String? {
        switch self {
        case .simpleError(let b), .bulkError(let b): return String(buffer: b)
        default: return nil
        }
    }

    /// The value as text when it is string-like or a number: bulk, simple, verbatim,
    /// integer, double, big number, boolean (`1`/`0`), error text. Nil for null and aggregates.
    /// Invalid UTF-8 is repaired with U+FFFD; use ``bytes`` for exact bytes.
    public var string: String? {
        switch self {
        case .simpleString(let b), .bulkString(let b), .simpleError(let b), .bulkError(let b):
            return String(decoding: b.readableBytesView, as: UTF8.self)
        case .verbatimString(_, let b): return String(decoding: b.readableBytesView, as: UTF8.self)
        case .integer(let i): return String(i)
        case .double(let d): return RESPValue.formatDouble(d)
        case .bigNumber(let s): return s
        case .boolean(let b): return b ? "1" : "0"
        case .attributed(_, let v): return v.string
        case .null, .array, .map, .set, .push: return nil
        }
    }

    /// The exact bytes of a string-like value, else nil.
    public var bytes: ByteBuffer? {
        switch self {
        case .simpleString(let b), .bulkString(let b), .simpleError(let b), .bulkError(let b):
            return b
        case .verbatimString(_, let b): return b
        case .attributed(_, let v): return v.bytes
        default: return nil
        }
    }

    /// The value as an integer: an integer reply, or a string or double that holds one exactly.
    public var int: Int? {
        switch self {
        case .integer(let i): return Int(exactly: i)
        case .double(let d): return Int(exactly: d)
        case .boolean(let b): return b ? 1 : 0
        case .attributed(_, let v): return v.int
        default: return string.flatMap { Int($0) }
        }
    }

    /// The elements of an array, set or push; nil otherwise (null included).
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a), .push(let a): return a
        case .attributed(_, let v): return v.elements
        default: return nil
        }
    }

    /// Formats a double the way Redis does in RESP3 (`inf`, `-inf`, `nan`, else shortest form).
    static func formatDouble(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 1e17 { return String(Int64(d)) }
        return String(d)
    }
}

extension RESPValue: ExpressibleByStringLiteral {
    /// A string literal is a bulk string.
    public init(stringLiteral value: String) { self = .bulk(value) }
}

extension RESPValue: ExpressibleByIntegerLiteral {
    /// An integer literal is an integer reply.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension RESPValue: ExpressibleByArrayLiteral {
    /// An array literal is a RESP array.
    public init(arrayLiteral elements: RESPValue...) { self = .array(elements) }
}
