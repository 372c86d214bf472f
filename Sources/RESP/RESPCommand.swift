import NIOCore

/// A command as a client sends it: an array of bulk strings, the first being its name.
public struct RESPCommand: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The words of the command, name first.
    public var arguments: [RESPArgument]

    /// Creates a command from its words, name first.
    public init(_ arguments: [RESPArgument]) { self.arguments = arguments }

    /// Creates a command from string words: `RESPCommand("SET", "k", "v")`.
    public init(_ name: String, _ arguments: String...) {
        self.arguments = [.string(name)] + arguments.map { .string($0) }
    }

    /// Creates a command from an array literal of words.
    public init(arrayLiteral elements: RESPArgument...) { self.arguments = elements }

    /// The command name, upper-cased (`"SET"`), or "" for an empty command.
    public var name: String {
        guard let first = arguments.first else { return "" }
        switch first {
        case .string(let s): return s.uppercased()
        case .bytes(let b): return String(decoding: b.readableBytesView, as: UTF8.self).uppercased()
        }
    }

    /// The name alone: arguments may hold secrets or large values, so they are not shown.
    public var description: String { name }
}

/// One word of a command: text, or exact bytes for binary-safe values.
public enum RESPArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// UTF-8 text.
    case string(String)
    /// Exact bytes.
    case bytes(ByteBuffer)

    /// A string literal is `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal is its decimal text.
    public init(integerLiteral value: Int) { self = .string(String(value)) }

    /// The argument's length in bytes on the wire.
    @inline(__always)
    var byteCount: Int {
        switch self {
        case .string(let s): return s.utf8.count
        case .bytes(let b): return b.readableBytes
        }
    }

    /// Copies the argument's bytes into `destination`, which is exactly ``byteCount`` long.
    @inline(__always)
    func copyBytes(into destination: UnsafeMutableRawBufferPointer) {
        switch self {
        case .string(let s):
            let copied: Void? = s.utf8.withContiguousStorageIfAvailable { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(source))
            }
            if copied == nil {
                var s = s
                s.withUTF8 { destination.copyMemory(from: UnsafeRawBufferPointer($0)) }
            }
        case .bytes(let b):
            b.withUnsafeReadableBytes { destination.copyMemory(from: $0) }
        }
    }
}

extension ByteBuffer {
    /// Appends `command` as a RESP array of bulk strings; returns the bytes written.
    @discardableResult
    public mutating func writeRESPCommand(_ command: RESPCommand) -> Int {
        writeRESPBulkArray(command.arguments, length: { $0.byteCount }, copy: { $0.copyBytes(into: $1) })
    }

    /// Appends an array of bulk strings, one per element of `words`; `length` gives an
    /// element's size in bytes and `copy` writes its bytes into a buffer of exactly that
    /// size. Returns the bytes written. For callers that keep words in a form of their
    /// own (the shell's parsed words), so that nothing is converted first.
    ///
    /// The size is computed first and the bytes written through one raw pointer: many
    /// small ByteBuffer writes each pay a capacity check and an exclusivity check, which
    /// made encoding the bottleneck of pipelined writes.
    @discardableResult @inlinable @inline(__always)
    public mutating func writeRESPBulkArray<Words: Collection>(
        _ words: Words, length: (Words.Element) -> Int,
        copy: (Words.Element, UnsafeMutableRawBufferPointer) -> Void
    ) -> Int {
        var size = 3 + Self.decimalDigits(words.count)
        for word in words {
            let count = length(word)
            size += 5 + Self.decimalDigits(count) + count
        }
        return writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            var i = 0
            out[i] = UInt8(ascii: "*")
            i += 1
            i = Self.putDecimal(words.count, into: out, at: i)
            out[i] = 0x0D; out[i + 1] = 0x0A
            i += 2
            for word in words {
                out[i] = UInt8(ascii: "$")
                i += 1
                let count = length(word)
                i = Self.putDecimal(count, into: out, at: i)
                out[i] = 0x0D; out[i + 1] = 0x0A
                i += 2
                copy(word, UnsafeMutableRawBufferPointer(rebasing: out[i..<(i + count)]))
                i += count
                out[i] = 0x0D; out[i + 1] = 0x0A
                i += 2
            }
            return i
        }
    }

    /// How many decimal digits `n` (>= 0) takes.
    @inlinable @inline(__always)
    static func decimalDigits(_ n: Int) -> Int {
        var digits = 1
        var rest = n
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Writes `n` (>= 0) in decimal at `offset`; returns the offset after it.
    @inlinable @inline(__always)
    static func putDecimal(_ n: Int, into out: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        let digits = decimalDigits(n)
        var rest = n
        var i = offset + digits - 1
        repeat {
            out[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
            i -= 1
        } while rest > 0
        return offset + digits
    }

    /// Appends `value` in RESP (RESP3 markers for RESP3-only types); returns the bytes written.
    @discardableResult
    public mutating func writeRESPValue(_ value: RESPValue) -> Int {
        let start = writerIndex
        switch value {
        case .simpleString(let b): writeRESPLine(UInt8(ascii: "+"), b)
        case .simpleError(let b): writeRESPLine(UInt8(ascii: "-"), b)
        case .integer(let i):
            writeInteger(UInt8(ascii: ":"))
            writeDecimal(Int(i))
            writeRESPCRLF()
        case .bulkString(let b): writeRESPBulk(UInt8(ascii: "$"), b)
        case .bulkError(let b): writeRESPBulk(UInt8(ascii: "!"), b)
        case .verbatimString(let format, let text):
            writeRESPHeader(UInt8(ascii: "="), 4 + text.readableBytes)
            writeBytes((format + "   ").utf8.prefix(3))
            writeInteger(UInt8(ascii: ":"))
            writeImmutableBuffer(text)
            writeRESPCRLF()
        case .null: writeString("_\r\n")
        case .array(let a): writeRESPAggregate(UInt8(ascii: "*"), a)
        case .set(let a): writeRESPAggregate(UInt8(ascii: "~"), a)
        case .push(let a): writeRESPAggregate(UInt8(ascii: ">"), a)
        case .map(let pairs): writeRESPPairs(UInt8(ascii: "%"), pairs)
        case .attributed(let attributes, let inner):
            writeRESPPairs(UInt8(ascii: "|"), attributes)
            writeRESPValue(inner)
        case .double(let d):
            writeInteger(UInt8(ascii: ","))
            writeString(d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : String(d))
            writeRESPCRLF()
        case .boolean(let b): writeString(b ? "#t\r\n" : "#f\r\n")
        case .bigNumber(let digits):
            writeInteger(UInt8(ascii: "("))
            writeString(digits)
            writeRESPCRLF()
        }
        return writerIndex - start
    }

    /// Appends the RESP2 null bulk string `$-1\r\n` (what RESP2 servers send for nil).
    public mutating func writeRESP2Null() { writeString("$-1\r\n") }

    private mutating func writeRESPAggregate(_ marker: UInt8, _ values: [RESPValue]) {
        writeRESPHeader(marker, values.count)
        for v in values { writeRESPValue(v) }
    }

    private mutating func writeRESPPairs(_ marker: UInt8, _ pairs: [RESPPair]) {
        writeRESPHeader(marker, pairs.count)
        for pair in pairs {
            writeRESPValue(pair.key)
            writeRESPValue(pair.value)
        }
    }

    private mutating func writeRESPLine(_ marker: UInt8, _ text: ByteBuffer) {
        writeInteger(marker)
        writeImmutableBuffer(text)
        writeRESPCRLF()
    }

    private mutating func writeRESPBulk(_ marker: UInt8, _ body: ByteBuffer) {
        writeRESPHeader(marker, body.readableBytes)
        writeImmutableBuffer(body)
        writeRESPCRLF()
    }

    @inline(__always)
    mutating func writeRESPHeader(_ marker: UInt8, _ count: Int) {
        writeInteger(marker)
        writeDecimal(count)
        writeRESPCRLF()
    }

    @inline(__always)
    mutating func writeRESPCRLF() {
        writeInteger(UInt16(0x0D0A), endianness: .big)
    }

    /// Writes `n` in decimal without building a String.
    @inline(__always)
    mutating func writeDecimal(_ n: Int) {
        if n >= 0 && n < 10 {
            writeInteger(UInt8(truncatingIfNeeded: n) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, enough for Int64.min
        var magnitude = n.magnitude
        let written = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
            } while magnitude > 0
            if n < 0 {
                i -= 1
                scratch[i] = UInt8(ascii: "-")
            }
            return i
        }
        withUnsafeBytes(of: &digits) { scratch in
            _ = writeBytes(UnsafeRawBufferPointer(rebasing: scratch[written...]))
        }
    }
}
