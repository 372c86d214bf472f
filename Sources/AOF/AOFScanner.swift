import NIOCore

/// Finds the entries of an append-only file in a buffer of its bytes, one at a time, with
/// each entry's offset in the file.
///
/// It accepts what Redis's loader accepts: commands as RESP arrays of bulk strings, and
/// lines starting with `#` (annotations such as `#TS:1700000000`), and is stricter only
/// where Redis would misread: line endings must be `\r\n` and counts must be digits.
/// It never allocates by a declared count or length (only bytes actually present are
/// looked at), and caps lengths by ``Limits`` so a hostile file cannot exhaust memory.
///
/// Feed it a buffer that grows at the end; ``next(_:)`` returns nil while the next entry is
/// incomplete. At the end of the input, ``pendingBytes(_:)`` tells whether a partial entry
/// is left over (a truncated file, or a file still being written).
public struct AOFScanner: Sendable {
    /// Caps that keep hostile files from exhausting memory.
    public struct Limits: Sendable, Hashable {
        /// Largest argument count of one command.
        public var maxArguments: Int
        /// Largest declared bulk length (Redis's proto-max-bulk-len defaults to 512 MB).
        public var maxBulkLength: Int
        /// Longest `*N`, `$N` or `#...` line.
        public var maxLineLength: Int

        /// Creates limits; the defaults fit anything Redis writes with default settings.
        public init(maxArguments: Int = 1 << 30, maxBulkLength: Int = 4 << 30, maxLineLength: Int = 64 * 1024) {
            self.maxArguments = maxArguments
            self.maxBulkLength = maxBulkLength
            self.maxLineLength = maxLineLength
        }
    }

    /// The limits in force.
    public let limits: Limits
    /// The file offset of the buffer's reader index: where the next entry starts.
    public private(set) var offset: Int

    /// Creates a scanner whose first byte is at `startOffset` in its file.
    public init(startOffset: Int = 0, limits: Limits = Limits()) {
        self.offset = startOffset
        self.limits = limits
    }

    /// The next complete entry, consuming its bytes, or nil when the buffer holds only part
    /// of one (or nothing). Throws ``AOFError`` (kind `.malformed`) with the file offset of
    /// the first bad byte.
    public mutating func next(_ buffer: inout ByteBuffer) throws(AOFError) -> AOFEntry? {
        let limits = self.limits
        let outcome = buffer.withUnsafeReadableBytes { Self.scan($0, limits: limits) }
        switch outcome {
        case .needMore:
            return nil
        case .failed(let at, let reason):
            throw AOFError(.malformed, reason, offset: offset + at)
        case .command(let length, let name, let count):
            let bytes = buffer.readSlice(length: length)!
            defer { offset += length }
            return AOFEntry(kind: .command, offset: offset, bytes: bytes, nameRange: name, argumentCount: count)
        case .annotation(let length, let timestamp):
            let bytes = buffer.readSlice(length: length)!
            defer { offset += length }
            return AOFEntry(kind: timestamp.map { .timestamp($0) } ?? .annotation, offset: offset, bytes: bytes)
        }
    }

    /// What is left in `buffer` that is not a whole entry: 0 when the input ended cleanly.
    public func pendingBytes(_ buffer: ByteBuffer) -> Int { buffer.readableBytes }

    enum Outcome {
        case command(length: Int, name: Range<Int>, count: Int)
        case annotation(length: Int, timestamp: Int64?)
        case needMore
        case failed(at: Int, reason: String)
    }

    /// Scans one entry at the start of `p`.
    static func scan(_ p: UnsafeRawBufferPointer, limits: Limits) -> Outcome {
        let n = p.count
        guard n > 0 else { return .needMore }
        switch p[0] {
        case UInt8(ascii: "#"):
            var i = 1
            while i < n && p[i] != 0x0A {
                i += 1
                if i > limits.maxLineLength { return .failed(at: 0, reason: "an annotation line longer than \(limits.maxLineLength) bytes") }
            }
            guard i < n else { return .needMore }
            return .annotation(length: i + 1, timestamp: timestamp(p, end: i))
        case UInt8(ascii: "*"):
            var i = 1
            let count: Int
            switch number(p, at: &i, limit: limits.maxArguments, what: "argument count") {
            case .value(let v): count = v
            case .needMore: return .needMore
            case .failed(let at, let reason): return .failed(at: at, reason: reason)
            }
            guard count >= 1 else { return .failed(at: 1, reason: "a command with \(count) arguments (Redis needs at least 1)") }
            var name = 0..<0
            for k in 0..<count {
                guard i < n else { return .needMore }
                guard p[i] == UInt8(ascii: "$") else {
                    return .failed(at: i, reason: "expected '$' (bulk string \(k + 1) of \(count)), found \(describe(p[i]))")
                }
                i += 1
                let length: Int
                switch number(p, at: &i, limit: limits.maxBulkLength, what: "bulk length") {
                case .value(let v): length = v
                case .needMore: return .needMore
                case .failed(let at, let reason): return .failed(at: at, reason: reason)
                }
                if k == 0 { name = i ..< i + length }
                guard n - i >= length + 2 else { return .needMore }
                i += length
                guard p[i] == 0x0D, p[i + 1] == 0x0A else {
                    return .failed(at: i, reason: "bulk string \(k + 1) of \(count) is not followed by \\r\\n (found \(describe(p[i])))")
                }
                i += 2
            }
            return .command(length: i, name: name, count: count)
        default:
            return .failed(at: 0, reason: "expected '*' (a command) or '#' (an annotation), found \(describe(p[0]))")
        }
    }

    enum Number { case value(Int), needMore, failed(at: Int, reason: String) }

    /// Reads the digits at `i` up to `\r\n`, leaving `i` after the `\n`.
    @inline(__always)
    static func number(_ p: UnsafeRawBufferPointer, at i: inout Int, limit: Int, what: String) -> Number {
        let start = i
        var value = 0
        var negative = false
        if i < p.count && p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        while i < p.count {
            let b = p[i]
            if b >= 0x30 && b <= 0x39 {
                value = value &* 10 &+ Int(b &- 0x30)
                if value > limit || i - start > 19 {
                    return .failed(at: start, reason: "\(what) over the limit of \(limit)")
                }
                i += 1
                continue
            }
            guard b == 0x0D else { return .failed(at: i, reason: "bad \(what): expected a digit or \\r\\n, found \(describe(b))") }
            guard i + 1 < p.count else { return .needMore }
            guard p[i + 1] == 0x0A else { return .failed(at: i + 1, reason: "bad \(what): \\r not followed by \\n") }
            guard i > start + (negative ? 1 : 0) else { return .failed(at: start, reason: "missing \(what)") }
            if negative { return .failed(at: start, reason: "negative \(what)") }
            i += 2
            return .value(value)
        }
        return .needMore
    }

    /// The seconds of a `#TS:<seconds>` line ending at `end` (the `\n`), if it is one.
    static func timestamp(_ p: UnsafeRawBufferPointer, end: Int) -> Int64? {
        guard end >= 5, p[1] == UInt8(ascii: "T"), p[2] == UInt8(ascii: "S"), p[3] == UInt8(ascii: ":") else { return nil }
        var stop = end
        if p[stop - 1] == 0x0D { stop -= 1 }
        guard stop > 4 else { return nil }
        var value: Int64 = 0
        for i in 4..<stop {
            let b = p[i]
            guard b >= 0x30 && b <= 0x39, value < Int64.max / 10 - 10 else { return nil }
            value = value * 10 + Int64(b - 0x30)
        }
        return value
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
    }
}
