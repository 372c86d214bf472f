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
        /// Most bytes one message may take, counted while it is still incomplete: a peer
        /// that announces `*2147483647` and streams elements forever is stopped here
        /// instead of growing the buffer until memory runs out. Unlimited by default.
        public var maxMessageLength: Int

        /// Creates limits.
        public init(maxDepth: Int = 128, maxBulkLength: Int = 512 * 1024 * 1024,
                    maxAggregateCount: Int = Int(Int32.max), maxLineLength: Int = 1024 * 1024,
                    maxMessageLength: Int = .max) {
            self.maxDepth = maxDepth
            self.maxBulkLength = maxBulkLength
            self.maxAggregateCount = maxAggregateCount
            self.maxLineLength = maxLineLength
            self.maxMessageLength = maxMessageLength
        }

        /// The defaults: depth 128, bulk 512 MB, 2^31-1 elements, 1 MB lines, messages of any size.
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
        var open = self.open
        self.open = []  // keep `open` uniquely referenced while the scan mutates it
        let outcome = buffer.withUnsafeReadableBytes { bytes in
            Self.scan(bytes, from: start, open: &open, limits: limits) { _, _ in false }
        }
        self.open = open
        switch outcome {
        case .stopped(let length):
            let token = RESPToken(validatedIn: buffer, offset: 0, length: length)
            buffer.moveReaderIndex(forwardBy: length)
            consumedBytes &+= length
            resumeAt = 0
            return token
        case .needMore(_, let position):
            resumeAt = position
            return nil
        case .malformed(let position, let reason):
            throw RESPDecodingError(offset: consumedBytes + position, reason: reason)
        }
    }

    /// Decodes every complete message in `buffer`, in order, calling `body` with each, and
    /// consumes their bytes; stops at the first incomplete message (remembering how far it
    /// got, as ``decode(_:)`` does) and returns how many messages it decoded.
    ///
    /// One pass over the readable bytes frames them all, which is what a connection wants
    /// after each read. If `body` throws, the messages before the one it was given are
    /// consumed and that one is not. Throws ``RESPDecodingError`` on malformed input, after
    /// `body` has seen every message before the bad one.
    @discardableResult
    public mutating func decodeAll(_ buffer: inout ByteBuffer, _ body: (RESPToken) throws -> Void) throws -> Int {
        let limits = self.limits
        var open = self.open
        self.open = []
        let start = resumeAt
        var consumed = 0
        var count = 0
        let base = buffer
        var failure: (any Error)?
        let outcome = buffer.withUnsafeReadableBytes { bytes in
            Self.scan(bytes, from: start, open: &open, limits: limits) { messageStart, messageEnd in
                do {
                    try body(RESPToken(validatedIn: base, offset: messageStart, length: messageEnd &- messageStart))
                } catch {
                    failure = error
                    return false
                }
                consumed = messageEnd
                count &+= 1
                return true
            }
        }
        self.open = open
        buffer.moveReaderIndex(forwardBy: consumed)
        consumedBytes &+= consumed
        if let failure {
            self.open = []
            resumeAt = 0
            throw failure
        }
        switch outcome {
        case .needMore(let messageStart, let position):
            resumeAt = position &- messageStart
        case .malformed(let position, let reason):
            throw RESPDecodingError(offset: consumedBytes &- consumed &+ position, reason: reason)
        case .stopped:
            break
        }
        return count
    }

    /// How far the bytes in the buffer go towards the current message, in bytes already
    /// validated; useful to report "N bytes of an incomplete reply" when a peer goes away.
    public var bytesOfIncompleteMessage: Int { resumeAt }

    enum ScanOutcome {
        /// The callback asked to stop after the message ending at this position.
        case stopped(Int)
        /// The message starting at the first position is incomplete; validation resumes
        /// at the second.
        case needMore(Int, Int)
        case malformed(Int, String)
    }

    /// One element's header (and body, for strings) as ``element(_:at:limits:)`` sees it.
    enum Element {
        /// A complete scalar, string or null; the next element starts at the position.
        case done(Int)
        /// An aggregate header announcing `count` (> 0) elements that start at the position.
        case open(Int, count: Int)
        case needMore
        case malformed(Int, String)
    }

    // Byte values of the RESP type markers and line endings.
    static let cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
    /// Longest header line with a length or an integer: sign, 19 digits, and some slack.
    static let numericLineLimit = 24

    /// Validates messages from `start` until the bytes run out, calling `onMessage` with
    /// each complete message's start and end; it returns false to stop there. `start` is
    /// always the first byte of an element of the first message, and `open` matches it.
    ///
    /// The loop handles the common `$N` and `*N` headers itself (digits and CRLF in one
    /// pass, open counts on a stack-allocated stack) and hands everything else, including
    /// every malformed header, to ``element(_:at:limits:)``. Setting up once per buffer
    /// rather than once per message is what keeps small messages cheap.
    @inline(__always)
    static func scan(_ p: UnsafeRawBufferPointer, from start: Int, open: inout [Int], limits: Limits,
                     onMessage: (Int, Int) -> Bool) -> ScanOutcome {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: limits.maxDepth &+ 1) { stack -> ScanOutcome in
            var depth = open.count
            for (i, count) in open.enumerated() { stack[i] = count }
            var pos = start
            var messageStart = 0
            let end = p.count
            let maxBulk = limits.maxBulkLength
            let maxCount = limits.maxAggregateCount

            func saveOpen() {
                open.removeAll(keepingCapacity: true)
                for i in 0..<depth { open.append(stack[i]) }
            }
            /// The incomplete message starting at `messageStart`, or the error when the
            /// bytes buffered for it exceed ``Limits/maxMessageLength``. Checked only
            /// when the bytes run out, so complete messages pay nothing for it.
            func incomplete(_ position: Int) -> ScanOutcome {
                if end &- messageStart > limits.maxMessageLength {
                    return .malformed(messageStart &+ limits.maxMessageLength,
                                      "a message longer than the limit of \(limits.maxMessageLength) bytes")
                }
                saveOpen()
                return .needMore(messageStart, position)
            }

            while true {
                guard pos < end else { return incomplete(pos) }
                let type = p[pos]
                var nextElement = -1
                var opens = 0
                // Fast path: `$N\r\n` and `*N\r\n` with a plain decimal N.
                if type == UInt8(ascii: "$") || type == UInt8(ascii: "*") {
                    var i = pos &+ 1
                    var n = 0
                    let digitsEnd = min(end, i &+ 18)
                    while i < digitsEnd {
                        let d = p[i] &- 0x30
                        if d >= 10 { break }
                        n = n &* 10 &+ Int(d)
                        i &+= 1
                    }
                    if i > pos &+ 1 && i &+ 1 < end && p[i] == cr && p[i &+ 1] == lf {
                        let next = i &+ 2
                        if type == UInt8(ascii: "$") {
                            if n <= maxBulk {
                                if n > end &- 2 &- next { return incomplete(pos) }
                                let bodyEnd = next &+ n
                                if p[bodyEnd] == cr && p[bodyEnd &+ 1] == lf { nextElement = bodyEnd &+ 2 }
                            }
                        } else if n <= maxCount {
                            nextElement = next
                            opens = n
                        }
                    }
                }
                if nextElement < 0 {
                    switch element(p, at: pos, limits: limits) {
                    case .done(let next):
                        nextElement = next
                    case .open(let next, let count):
                        nextElement = next
                        opens = count
                    case .needMore:
                        return incomplete(pos)
                    case .malformed(let at, let reason):
                        return .malformed(at, reason)
                    }
                }
                if opens > 0 {
                    if depth >= limits.maxDepth {
                        return .malformed(pos, "aggregates nested deeper than \(limits.maxDepth) levels")
                    }
                    stack[depth] = opens
                    depth &+= 1
                    pos = nextElement
                    continue
                }
                pos = nextElement
                // One element is complete: close every aggregate it completes.
                while depth > 0 {
                    let left = stack[depth &- 1] &- 1
                    if left > 0 {
                        stack[depth &- 1] = left
                        break
                    }
                    depth &-= 1
                }
                if depth == 0 {
                    if !onMessage(messageStart, pos) {
                        open.removeAll(keepingCapacity: true)
                        return .stopped(pos)
                    }
                    messageStart = pos
                }
            }
        }
    }

    /// Validates the one element starting at `pos`: every type, every error message.
    static func element(_ p: UnsafeRawBufferPointer, at pos: Int, limits: Limits) -> Element {
        let end = p.count
        let type = p[pos]
        if !isKnownType(type) { return .malformed(pos, unknownTypeReason(type)) }
        let lineStart = pos &+ 1
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
            return .needMore
        }
        if cr &+ 1 >= end { return .needMore }
        if p[cr &+ 1] != lf { return .malformed(cr &+ 1, "expected LF after CR, found \(describe(p[cr &+ 1]))") }
        let next = cr &+ 2

        switch type {
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            return .done(next)
        case UInt8(ascii: ":"):
            guard parseInteger(p, lineStart, cr) != nil else {
                return .malformed(lineStart, "invalid integer \(quote(p, lineStart, cr))")
            }
            return .done(next)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            guard let n = parseInteger(p, lineStart, cr) else {
                if cr == lineStart &+ 1 && p[lineStart] == UInt8(ascii: "?") {
                    return .malformed(pos, "streamed strings ($?) are not supported")
                }
                return .malformed(lineStart, "invalid \(typeName(type)) length \(quote(p, lineStart, cr))")
            }
            if n == -1 && type == UInt8(ascii: "$") { return .done(next) }
            if n < 0 { return .malformed(lineStart, "negative \(typeName(type)) length \(n)") }
            if n > limits.maxBulkLength {
                return .malformed(lineStart, "\(typeName(type)) length \(n) exceeds the limit of \(limits.maxBulkLength) bytes")
            }
            if type == UInt8(ascii: "=") && n < 4 {
                return .malformed(lineStart, "verbatim string of \(n) bytes is too short for its 'fmt:' prefix")
            }
            if n > end &- 2 &- next { return .needMore }
            let bodyEnd = next &+ n
            if p[bodyEnd] != cr_ || p[bodyEnd &+ 1] != lf {
                return .malformed(bodyEnd, "\(typeName(type)) of \(n) bytes is not followed by CRLF")
            }
            if type == UInt8(ascii: "=") && p[next &+ 3] != UInt8(ascii: ":") {
                return .malformed(next &+ 3, "verbatim string lacks the ':' after its 3-byte format")
            }
            return .done(bodyEnd &+ 2)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let n = parseInteger(p, lineStart, cr) else {
                if cr == lineStart &+ 1 && p[lineStart] == UInt8(ascii: "?") {
                    return .malformed(pos, "streamed aggregates (\(Character(UnicodeScalar(type)))?) are not supported")
                }
                return .malformed(lineStart, "invalid \(typeName(type)) count \(quote(p, lineStart, cr))")
            }
            if n == -1 && type == UInt8(ascii: "*") { return .done(next) }
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
            return elements > 0 ? .open(next, count: elements) : .done(next)
        case UInt8(ascii: "_"):
            if cr != lineStart { return .malformed(lineStart, "null (_) followed by \(quote(p, lineStart, cr)) instead of CRLF") }
            return .done(next)
        case UInt8(ascii: "#"):
            guard cr == lineStart &+ 1, p[lineStart] == UInt8(ascii: "t") || p[lineStart] == UInt8(ascii: "f") else {
                return .malformed(lineStart, "invalid boolean \(quote(p, lineStart, cr)), expected t or f")
            }
            return .done(next)
        case UInt8(ascii: ","):
            guard parseDouble(p, lineStart, cr) != nil else {
                return .malformed(lineStart, "invalid double \(quote(p, lineStart, cr))")
            }
            return .done(next)
        case UInt8(ascii: "("):
            guard isBigNumber(p, lineStart, cr) else {
                return .malformed(lineStart, "invalid big number \(quote(p, lineStart, cr))")
            }
            return .done(next)
        default:
            return .malformed(pos, unknownTypeReason(type))
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
