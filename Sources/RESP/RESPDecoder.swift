import NIOCore

/// An incremental RESP2/RESP3 decoder: frames and validates one complete message at a time.
///
/// Feed it a buffer that grows as bytes arrive; each call to ``decode(_:)`` either returns
/// the next complete message as a ``RESPToken`` (and moves the buffer's reader index past
/// it), returns nil when more bytes are needed, or throws a ``RESPDecodingError`` naming
/// the byte offset of the first malformed byte.
///
/// The decoder is resumable: when a message is incomplete it remembers how far it validated
/// and which aggregates are open, so a large reply arriving in many small reads is scanned
/// once, not once per read. Between calls the caller may append bytes to the buffer and may
/// discard bytes before the reader index, but must not consume or change readable bytes.
///
/// Hostile input cannot make it crash or allocate without bound: nesting depth, declared
/// bulk lengths, aggregate counts and line lengths are capped by ``Limits``, and declared
/// counts never cause allocation (only bytes actually received are looked at).
/// After it throws, the stream is unusable: close the connection or stop reading the file.
public struct RESPDecoder: Sendable {
    /// Caps that keep hostile input from exhausting memory or the stack.
    public struct Limits: Sendable, Hashable {
        /// Deepest nesting of aggregates (arrays, maps, sets, pushes, attributes).
        public var maxDepth: Int
        /// Largest declared bulk string, bulk error or verbatim string (Redis's default
        /// `proto-max-bulk-len` is 512 MB).
        public var maxBulkLength: Int
        /// Largest declared element count of one aggregate.
        public var maxAggregateCount: Int
        /// Longest simple string, simple error, double or big number line.
        public var maxLineLength: Int

        /// Creates limits.
        public init(maxDepth: Int = 128, maxBulkLength: Int = 512 * 1024 * 1024,
                    maxAggregateCount: Int = Int(Int32.max), maxLineLength: Int = 1024 * 1024) {
            self.maxDepth = maxDepth
            self.maxBulkLength = maxBulkLength
            self.maxAggregateCount = maxAggregateCount
            self.maxLineLength = maxLineLength
        }

        /// The defaults: depth 128, bulk 512 MB, 2^31-1 elements, 1 MB lines.
        public static let `default` = Limits()
    }

    /// The limits this decoder enforces.
    public let limits: Limits
    /// Bytes of complete messages returned so far: the stream offset of the next message.
    public private(set) var consumedBytes: Int = 0
    /// Where validation of the current, incomplete message resumes (relative to readerIndex).
    private var resumeAt: Int = 0
    /// Elements still expected by each open aggregate of the current message, outermost first.
    private var open: [Int] = []

    /// Creates a decoder whose offsets start at `startOffset` (for example a file position).
    public init(limits: Limits = .default, startOffset: Int = 0) {
        self.limits = limits
        self.consumedBytes = startOffset
        self.open.reserveCapacity(8)
    }

    /// Returns the next complete message and consumes its bytes, or nil if the buffer holds
    /// only part of one. Throws on malformed input, with the stream offset of the bad byte.
    public mutating func decode(_ buffer: inout ByteBuffer) throws(RESPDecodingError) -> RESPToken? {
        let start = resumeAt
        let limits = self.limits
        let outcome = buffer.withUnsafeReadableBytes { bytes in
            Self.scan(bytes, from: start, open: &self.open, limits: limits)
        }
        switch outcome {
        case .complete(let length):
            let slice = buffer.readSlice(length: length)!
            consumedBytes += length
            resumeAt = 0
            return RESPToken(validated: slice)
        case .needMore(let position):
            resumeAt = position
            return nil
        case .malformed(let position, let reason):
            throw RESPDecodingError(offset: consumedBytes + position, reason: reason)
        }
    }

    /// How far the bytes in the buffer go towards the current message, in bytes already
    /// validated; useful to report "N bytes of an incomplete reply" when a peer goes away.
    public var bytesOfIncompleteMessage: Int { resumeAt }

    enum ScanOutcome {
        case complete(Int)
        case needMore(Int)
        case malformed(Int, String)
    }

    // Byte values of the RESP type markers and line endings.
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
    /// Longest header line with a length or an integer: sign, 19 digits, and some slack.
    static let numericLineLimit = 24

    /// Validates elements from `start` until the message ends or the bytes run out.
    /// `start` is always the first byte of an element, and `open` matches it.
    static func scan(_ p: UnsafeRawBufferPointer, from start: Int, open: inout [Int], limits: Limits) -> ScanOutcome {
        var pos = start
        let end = p.count
        while true {
            guard pos < end else { return .needMore(pos) }
            let type = p[pos]
            if !isKnownType(type) { return .malformed(pos, unknownTypeReason(type)) }
            let lineStart = pos + 1
            let lineLimit: Int
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ","), UInt8(ascii: "("):
                lineLimit = limits.maxLineLength
            default:
                lineLimit = numericLineLimit
            }
            // Find the CR that ends the header line.
            var cr = lineStart
            let searchEnd = end &- lineStart > lineLimit ? lineStart &+ lineLimit &+ 1 : end
            while cr < searchEnd && p[cr] != cr_ { cr &+= 1 }
            if cr == searchEnd {
                if end - lineStart > lineLimit {
                    return .malformed(pos, "\(typeName(type)) line longer than \(lineLimit) bytes without CRLF")
                }
                if !isKnownType(type) { return .malformed(pos, unknownTypeReason(type)) }
                return .needMore(pos)
            }
            if cr &+ 1 >= end { return .needMore(pos) }
            if p[cr &+ 1] != lf { return .malformed(cr &+ 1, "expected LF after CR, found \(describe(p[cr &+ 1]))") }
            let next = cr &+ 2

            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                pos = next
            case UInt8(ascii: ":"):
                guard parseInteger(p, lineStart, cr) != nil else {
                    return .malformed(lineStart, "invalid integer \(quote(p, lineStart, cr))")
                }
                pos = next
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                guard let n = parseInteger(p, lineStart, cr) else {
                    if cr == lineStart &+ 1 && p[lineStart] == UInt8(ascii: "?") {
                        return .malformed(pos, "streamed strings ($?) are not supported")
                    }
                    return .malformed(lineStart, "invalid \(typeName(type)) length \(quote(p, lineStart, cr))")
                }
                if n == -1 && type == UInt8(ascii: "$") { pos = next; break }
                if n < 0 { return .malformed(lineStart, "negative \(typeName(type)) length \(n)") }
                if n > limits.maxBulkLength {
                    return .malformed(lineStart, "\(typeName(type)) length \(n) exceeds the limit of \(limits.maxBulkLength) bytes")
                }
                if type == UInt8(ascii: "=") && n < 4 {
                    return .malformed(lineStart, "verbatim string of \(n) bytes is too short for its 'fmt:' prefix")
                }
                let bodyEnd = next &+ n
                if n > end &- 2 &- next { return .needMore(pos) }
                if p[bodyEnd] != cr_ || p[bodyEnd &+ 1] != lf {
                    return .malformed(bodyEnd, "\(typeName(type)) of \(n) bytes is not followed by CRLF")
                }
                if type == UInt8(ascii: "=") && p[next &+ 3] != UInt8(ascii: ":") {
                    return .malformed(next &+ 3, "verbatim string lacks the ':' after its 3-byte format")
                }
                pos = bodyEnd &+ 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let n = parseInteger(p, lineStart, cr) else {
                    if cr == lineStart &+ 1 && p[lineStart] == UInt8(ascii: "?") {
                        return .malformed(pos, "streamed aggregates (\(Character(UnicodeScalar(type)))?) are not supported")
                    }
                    return .malformed(lineStart, "invalid \(typeName(type)) count \(quote(p, lineStart, cr))")
                }
                if n == -1 && type == UInt8(ascii: "*") { pos = next; break }
                if n < 0 { return .malformed(lineStart, "negative \(typeName(type)) count \(n)") }
                if n > limits.maxAggregateCount {
                    return .malformed(lineStart, "\(typeName(type)) count \(n) exceeds the limit of \(limits.maxAggregateCount)")
                }
                // Maps and attributes hold 2n elements (plus the attributed value); refuse
                // counts whose element total would not fit, whatever the configured limit.
                var elements = n
                if type == UInt8(ascii: "%") || type == UInt8(ascii: "|") {
                    guard n <= (Int.max - 1) / 2 else {
                        return .malformed(lineStart, "\(typeName(type)) count \(n) is too large")
                    }
                    elements = type == UInt8(ascii: "%") ? n * 2 : n * 2 + 1
                }
                pos = next
                if elements > 0 {
                    if open.count >= limits.maxDepth {
                        return .malformed(lineStart &- 1, "aggregates nested deeper than \(limits.maxDepth) levels")
                    }
                    open.append(elements)
                    continue
                }
            case UInt8(ascii: "_"):
                if cr != lineStart { return .malformed(lineStart, "null (_) followed by \(quote(p, lineStart, cr)) instead of CRLF") }
                pos = next
            case UInt8(ascii: "#"):
                guard cr == lineStart &+ 1, p[lineStart] == UInt8(ascii: "t") || p[lineStart] == UInt8(ascii: "f") else {
                    return .malformed(lineStart, "invalid boolean \(quote(p, lineStart, cr)), expected t or f")
                }
                pos = next
            case UInt8(ascii: ","):
                guard parseDouble(p, lineStart, cr) != nil else {
                    return .malformed(lineStart, "invalid double \(quote(p, lineStart, cr))")
                }
                pos = next
            case UInt8(ascii: "("):
                guard isBigNumber(p, lineStart, cr) else {
                    return .malformed(lineStart, "invalid big number \(quote(p, lineStart, cr))")
                }
                pos = next
            default:
                return .malformed(pos, unknownTypeReason(type))
            }

            // One element is complete: close every aggregate it completes.
            while let last = open.last {
                if last > 1 {
                    open[open.count &- 1] = last &- 1
                    break
                }
                open.removeLast()
            }
            if open.isEmpty { return .complete(pos) }
        }
    }

    private static let cr_: UInt8 = 0x0D

    /// Parses an optionally signed decimal integer occupying exactly `from..<to`.
    @inline(__always)
    static func parseInteger(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Int? {
        var i = from
        var negative = false
        if i < to && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
            negative = p[i] == UInt8(ascii: "-")
            i &+= 1
        }
        guard i < to, to - i <= 19 else { return nil }
        var value = 0
        while i < to {
            let d = p[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            // Accumulate towards the sign so that Int.min (-9223372036854775808) parses.
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int(d)) : m.addingReportingOverflow(Int(d))
            if o1 || o2 { return nil }
            value = s
            i &+= 1
        }
        return value
    }

    static func parseDouble(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Double? {
        guard from < to else { return nil }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: p[from..<to]), as: UTF8.self)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default:
            // Swift's parser also takes "infinity" and hex floats; RESP wants plain decimals.
            guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 }) else { return nil }
            return Double(text)
        }
    }

    static func isBigNumber(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> Bool {
        var i = from
        if i < to && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) { i += 1 }
        guard i < to else { return false }
        while i < to {
            guard p[i] >= UInt8(ascii: "0") && p[i] <= UInt8(ascii: "9") else { return false }
            i += 1
        }
        return true
    }

    static func isKnownType(_ type: UInt8) -> Bool {
        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"),
             UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: "!"),
             UInt8(ascii: "="), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
            return true
        default:
            return false
        }
    }

    static func unknownTypeReason(_ type: UInt8) -> String {
        "unknown RESP type byte \(describe(type))"
    }

    static func typeName(_ type: UInt8) -> String {
        switch type {
        case UInt8(ascii: "+"): return "simple string"
        case UInt8(ascii: "-"): return "simple error"
        case UInt8(ascii: ":"): return "integer"
        case UInt8(ascii: "$"): return "bulk string"
        case UInt8(ascii: "*"): return "array"
        case UInt8(ascii: "_"): return "null"
        case UInt8(ascii: "#"): return "boolean"
        case UInt8(ascii: ","): return "double"
        case UInt8(ascii: "("): return "big number"
        case UInt8(ascii: "!"): return "bulk error"
        case UInt8(ascii: "="): return "verbatim string"
        case UInt8(ascii: "%"): return "map"
        case UInt8(ascii: "~"): return "set"
        case UInt8(ascii: ">"): return "push"
        case UInt8(ascii: "|"): return "attribute"
        default: return "value"
        }
    }

    /// `0x41 'A'` for printable bytes, `0x0A` otherwise.
    static func describe(_ byte: UInt8) -> String {
        let hex = "0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        if byte >= 0x20 && byte < 0x7F { return "\(hex) '\(Character(UnicodeScalar(byte)))'" }
        return hex
    }

    /// The bytes `from..<to` as a quoted, escaped string, cut at 40 bytes.
    static func quote(_ p: UnsafeRawBufferPointer, _ from: Int, _ to: Int) -> String {
        var out = "\""
        for i in from..<min(to, from + 40) {
            let b = p[i]
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                out.append(Character(UnicodeScalar(b)))
            } else {
                out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        if to - from > 40 { out += "..." }
        return out + "\""
    }
}
