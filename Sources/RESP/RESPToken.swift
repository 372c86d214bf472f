import NIOCore

/// The exact bytes of one complete, validated RESP message.
///
/// A token is what ``RESPDecoder`` hands out: framing and validation are done, but no
/// value tree is built until ``value`` is asked for. Keeping the two apart is what lets
/// the decoder frame gigabytes per second and lets an AOF reader copy commands verbatim.
public struct RESPToken: Sendable, Hashable {
    /// The buffer the message was read from; the message starts `offset` bytes after its
    /// reader index. Holding the buffer rather than a slice of it makes a token as cheap
    /// as one reference count; ``bytes`` slices on demand.
    private let base: ByteBuffer
    private let offset: Int
    /// The message's length in bytes.
    public let length: Int

    /// Wraps `length` bytes at `offset` past `base`'s reader index that ``RESPDecoder``
    /// has validated.
    init(validatedIn base: ByteBuffer, offset: Int, length: Int) {
        self.base = base
        self.offset = offset
        self.length = length
    }

    /// Validates `bytes` as exactly one RESP message (no trailing bytes).
    public init(validating bytes: ByteBuffer) throws(RESPDecodingError) {
        var copy = bytes
        var decoder = RESPDecoder()
        guard let token = try decoder.decode(&copy) else {
            throw RESPDecodingError(offset: bytes.readableBytes, reason: "incomplete message")
        }
        guard copy.readableBytes == 0 else {
            throw RESPDecodingError(offset: token.length, reason: "\(copy.readableBytes) bytes after the message")
        }
        self = token
    }

    /// The message's bytes, from its type byte to its final CRLF (shares storage).
    public var bytes: ByteBuffer { base.getSlice(at: base.readerIndex + offset, length: length)! }

    /// The first byte: `+`, `-`, `:`, `$`, `*`, or one of RESP3's markers.
    public var typeByte: UInt8 { base.getInteger(at: base.readerIndex + offset)! }

    /// True for `-` simple errors and `!` bulk errors, without building the value.
    public var isError: Bool { typeByte == UInt8(ascii: "-") || typeByte == UInt8(ascii: "!") }

    /// Calls `body` with the message's bytes, without copying or slicing.
    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try base.withUnsafeReadableBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<offset + length]))
        }
    }

    /// The message as a value tree. Strings share storage with the buffer it was read from.
    public var value: RESPValue {
        base.withUnsafeReadableBytes { all in
            let p = UnsafeRawBufferPointer(rebasing: all[offset..<offset + length])
            var position = 0
            return RESPToken.parse(p, &position, base: base, baseIndex: base.readerIndex + offset)
        }
    }

    /// Two tokens are equal when their messages' bytes are.
    public static func == (a: RESPToken, b: RESPToken) -> Bool {
        a.length == b.length && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    /// Hashes the message's bytes.
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Builds a value from bytes the decoder validated, so it cannot fail; recursion depth
    /// is bounded by the decoder's depth limit.
    /// `baseIndex` is the index in `base` of `p`'s first byte, for slicing strings out.
    static func parse(_ p: UnsafeRawBufferPointer, _ position: inout Int, base: ByteBuffer, baseIndex: Int) -> RESPValue {
        let type = p[position]
        let lineStart = position + 1
        var cr = lineStart
        while p[cr] != 0x0D { cr += 1 }
        position = cr + 2
        func slice(_ from: Int, _ to: Int) -> ByteBuffer {
            base.getSlice(at: baseIndex + from, length: to - from)!
        }
        func integer() -> Int { RESPDecoder.parseInteger(p, lineStart, cr)! }
        func elements(_ n: Int) -> [RESPValue] {
            var result: [RESPValue] = []
            result.reserveCapacity(n)
            for _ in 0..<n { result.append(parse(p, &position, base: base, baseIndex: baseIndex)) }
            return result
        }
        func pairs(_ n: Int) -> [RESPPair] {
            var result: [RESPPair] = []
            result.reserveCapacity(n)
            for _ in 0..<n {
                let key = parse(p, &position, base: base, baseIndex: baseIndex)
                let value = parse(p, &position, base: base, baseIndex: baseIndex)
                result.append(RESPPair(key: key, value: value))
            }
            return result
        }
        switch type {
        case UInt8(ascii: "+"): return .simpleString(slice(lineStart, cr))
        case UInt8(ascii: "-"): return .simpleError(slice(lineStart, cr))
        case UInt8(ascii: ":"): return .integer(Int64(integer()))
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            let n = integer()
            if n < 0 { return .null }
            let body = position
            position = body + n + 2
            switch type {
            case UInt8(ascii: "$"): return .bulkString(slice(body, body + n))
            case UInt8(ascii: "!"): return .bulkError(slice(body, body + n))
            default:
                let format = String(decoding: UnsafeRawBufferPointer(rebasing: p[body..<body + 3]), as: UTF8.self)
                return .verbatimString(format: format, text: slice(body + 4, body + n))
            }
        case UInt8(ascii: "*"):
            let n = integer()
            return n < 0 ? .null : .array(elements(n))
        case UInt8(ascii: "~"): return .set(elements(integer()))
        case UInt8(ascii: ">"): return .push(elements(integer()))
        case UInt8(ascii: "%"): return .map(pairs(integer()))
        case UInt8(ascii: "|"):
            let attributes = pairs(integer())
            return .attributed(attributes: attributes, value: parse(p, &position, base: base, baseIndex: baseIndex))
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "#"): return .boolean(p[lineStart] == UInt8(ascii: "t"))
        case UInt8(ascii: ","): return .double(RESPDecoder.parseDouble(p, lineStart, cr)!)
        case UInt8(ascii: "("):
            return .bigNumber(String(decoding: UnsafeRawBufferPointer(rebasing: p[lineStart..<cr]), as: UTF8.self))
        default:
            preconditionFailure("RESPToken holds bytes the decoder did not validate")
        }
    }
}
