import NIOCore
import Testing

@testable import RESP

// Helpers shared by the RESP test files: building buffers, decoding everything in a buffer,
// collecting errors, comparing values (NaN-aware), a seeded PRNG and a random value generator.

/// A buffer holding the UTF-8 bytes of `string` (`"\r\n"` is two bytes, as in RESP).
func buffer(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

/// A buffer holding exactly `bytes`.
func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

/// The readable bytes of `buffer` as an array.
func bytesOf(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

/// The readable bytes of `buffer` as text, with CR and LF and non-printable bytes escaped.
func escaped(_ buffer: ByteBuffer) -> String { escaped(bytesOf(buffer)) }

func escaped(_ bytes: [UInt8]) -> String {
    var out = ""
    for b in bytes {
        switch b {
        case 0x0D: out += "\\r"
        case 0x0A: out += "\\n"
        case 0x5C: out += "\\\\"
        case 0x20..<0x7F: out.append(Character(UnicodeScalar(b)))
        default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return out
}

/// `value` in RESP.
func encode(_ value: RESPValue) -> ByteBuffer {
    var out = ByteBuffer()
    out.writeRESPValue(value)
    return out
}

/// `command` in RESP.
func encode(_ command: RESPCommand) -> ByteBuffer {
    var out = ByteBuffer()
    out.writeRESPCommand(command)
    return out
}

/// What decoding a whole stream gave: the tokens in order, then the error that stopped it, if
/// any, and the bytes left over (the start of an incomplete message, or the bad message).
struct DecodeRun {
    var tokens: [RESPToken] = []
    var error: RESPDecodingError?
    var leftover = 0
    var consumedBytes = 0
}

/// Decodes everything `input` holds in one go.
func decodeAll(_ input: ByteBuffer, limits: RESPDecoder.Limits = .default) -> DecodeRun {
    var decoder = RESPDecoder(limits: limits)
    var buf = input
    var run = DecodeRun()
    // Every token is at least 3 bytes, so this bound can only be hit by a decoder that loops.
    var budget = input.readableBytes / 3 + 2
    do {
        while let token = try decoder.decode(&buf) {
            run.tokens.append(token)
            budget -= 1
            if budget < 0 {
                Issue.record("decoder returned more tokens than the input can hold: \(escaped(input))")
                break
            }
        }
    } catch {
        run.error = error
    }
    run.leftover = buf.readableBytes
    run.consumedBytes = decoder.consumedBytes
    return run
}

/// Decodes `input` fed in pieces whose ends are `cuts` (ascending offsets into `input`; the
/// rest follows at the end), calling decode until it returns nil after every piece.
func decodeInPieces(_ input: ByteBuffer, cuts: [Int], limits: RESPDecoder.Limits = .default) -> DecodeRun {
    var decoder = RESPDecoder(limits: limits)
    var buf = ByteBuffer()
    var run = DecodeRun()
    var start = 0
    var budget = input.readableBytes / 3 + 2 + cuts.count
    for end in cuts + [input.readableBytes] where end >= start {
        var piece = input.getSlice(at: input.readerIndex + start, length: end - start)!
        buf.writeBuffer(&piece)
        start = end
        do {
            while let token = try decoder.decode(&buf) {
                run.tokens.append(token)
                budget -= 1
                if budget < 0 {
                    Issue.record("decoder returned more tokens than the input can hold: \(escaped(input))")
                    return run
                }
            }
        } catch {
            run.error = error
            break
        }
    }
    run.leftover = buf.readableBytes
    run.consumedBytes = decoder.consumedBytes
    return run
}

/// Decodes `text`, which must hold exactly one complete message, and returns its value.
func decodeOne(_ input: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) -> RESPValue? {
    var decoder = RESPDecoder()
    var buf = input
    do {
        guard let token = try decoder.decode(&buf) else {
            Issue.record("incomplete: \(escaped(input))", sourceLocation: sourceLocation)
            return nil
        }
        #expect(buf.readableBytes == 0, "bytes left after the message", sourceLocation: sourceLocation)
        #expect(token.bytes == input, "the token holds exactly the message", sourceLocation: sourceLocation)
        #expect(decoder.consumedBytes == input.readableBytes, sourceLocation: sourceLocation)
        return token.value
    } catch {
        Issue.record("\(error) for \(escaped(input))", sourceLocation: sourceLocation)
        return nil
    }
}

func decodeOne(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> RESPValue? {
    decodeOne(buffer(text), sourceLocation: sourceLocation)
}

/// The error decoding `input` throws (nil if none, reported as an issue).
func decodingError(_ input: ByteBuffer, limits: RESPDecoder.Limits = .default,
                   sourceLocation: SourceLocation = #_sourceLocation) -> RESPDecodingError? {
    let run = decodeAll(input, limits: limits)
    if run.error == nil {
        Issue.record("no error for \(escaped(input)) (\(run.tokens.count) tokens, \(run.leftover) bytes left)",
                     sourceLocation: sourceLocation)
    }
    return run.error
}

/// Expects decoding `input` to throw at exactly `offset`, with a reason containing every
/// string of `reasonContains` (case-insensitive).
func expectMalformed(_ input: ByteBuffer, offset: Int, reasonContains: [String],
                     limits: RESPDecoder.Limits = .default,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error = decodingError(input, limits: limits, sourceLocation: sourceLocation) else { return }
    #expect(error.offset == offset, "\(error) for \(escaped(input))", sourceLocation: sourceLocation)
    for part in reasonContains {
        #expect(error.reason.lowercased().contains(part.lowercased()),
                "reason \"\(error.reason)\" lacks \"\(part)\"", sourceLocation: sourceLocation)
    }
    #expect(error.description == "malformed RESP at byte offset \(offset): \(error.reason)",
            sourceLocation: sourceLocation)
}

func expectMalformed(_ text: String, offset: Int, reasonContains: [String],
                     limits: RESPDecoder.Limits = .default,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    expectMalformed(buffer(text), offset: offset, reasonContains: reasonContains, limits: limits,
                    sourceLocation: sourceLocation)
}

// MARK: - Comparing values

/// Value equality where NaN equals NaN and doubles compare bit for bit (so -0.0 != 0.0).
func equivalent(_ a: RESPValue, _ b: RESPValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
    case (.array(let x), .array(let y)), (.set(let x), .set(let y)), (.push(let x), .push(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { equivalent($0, $1) }
    case (.map(let x), .map(let y)):
        return equivalent(x, y)
    case (.attributed(let xa, let xv), .attributed(let ya, let yv)):
        return equivalent(xa, ya) && equivalent(xv, yv)
    default:
        return a == b
    }
}

func equivalent(_ x: [RESPPair], _ y: [RESPPair]) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { equivalent($0.key, $1.key) && equivalent($0.value, $1.value) }
}

/// A short description of a value for failure messages.
func describe(_ value: RESPValue) -> String { escaped(encode(value)) }

// MARK: - Seeded randomness

/// SplitMix64: small, fast, and the same sequence on every platform for a given seed.
struct SplitMix64: RandomNumberGenerator {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// True with probability 1/n.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }

    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
}

// MARK: - Random valid values

/// Generates random valid values of every kind, bounded in depth and width.
struct ValueGenerator {
    var rng: SplitMix64
    var maxDepth = 4
    var maxWidth = 5

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Text without CR or LF, sometimes non-ASCII, for simple strings and errors.
    mutating func lineText() -> ByteBuffer {
        let pieces = ["OK", "ERR", " ", "x", "QUEUED", "é", "日本", "\u{1F600}", "\t", "\0", "-", "+", ":", "$", "*"]
        var s = ""
        for _ in 0..<rng.below(6) { s += rng.pick(pieces) }
        if rng.oneIn(5) {
            // arbitrary bytes except CR and LF
            let raw = rng.bytes(rng.below(12)).map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }
            return ByteBuffer(bytes: raw)
        }
        return ByteBuffer(string: s)
    }

    /// Arbitrary bytes, CR and LF included.
    mutating func binary() -> ByteBuffer {
        switch rng.below(5) {
        case 0: return ByteBuffer()
        case 1: return ByteBuffer(bytes: [0x0D, 0x0A])
        case 2: return ByteBuffer(bytes: rng.bytes(rng.below(300)))
        default:
            let alphabet: [UInt8] = [0x0D, 0x0A, 0x00, 0x24, 0x2A, 0x2B, 0x3A, 0x61, 0x62, 0xFF]
            return ByteBuffer(bytes: (0..<rng.below(20)).map { _ in rng.pick(alphabet) })
        }
    }

    mutating func integer() -> Int64 {
        switch rng.below(6) {
        case 0: return rng.pick([0, 1, -1, 9, 10, -9, -10, 99, 100, Int64.max, Int64.min + 1, Int64.max - 1])
        case 1: return Int64(bitPattern: rng.next())
        case 2: return Int64(bitPattern: rng.next()) >> rng.below(64)
        default: return Int64(rng.below(2_000_001)) - 1_000_000
        }
    }

    mutating func double() -> Double {
        switch rng.below(8) {
        case 0: return rng.pick([0.0, -0.0, 1.0, -1.0, 3.14, .infinity, -.infinity, .nan, 1e300, -1e-300,
                                 .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1e16, 1e17, 123456789012345680])
        case 1: return Double(bitPattern: rng.next())  // any double, NaN payloads and subnormals included
        case 2: return Double(Int64(rng.below(2_000_001)) - 1_000_000)
        default: return Double(Int64(rng.below(2_000_001)) - 1_000_000) / Double(rng.below(1000) + 1)
        }
    }

    mutating func bigNumber() -> String {
        let sign = rng.pick(["", "", "-", "+"])
        let digits = String((0..<(1 + rng.below(60))).map { _ in Character(UnicodeScalar(UInt8(0x30 + rng.below(10)))) })
        return sign + digits
    }

    mutating func format() -> String {
        rng.pick(["txt", "mkd", "abc", "   ", "a:b", "123"])
    }

    mutating func leaf() -> RESPValue {
        switch rng.below(11) {
        case 0: return .simpleString(lineText())
        case 1: return .simpleError(lineText())
        case 2: return .integer(integer())
        case 3, 4: return .bulkString(binary())
        case 5: return .null
        case 6: return .double(double())
        case 7: return .boolean(rng.oneIn(2))
        case 8: return .bigNumber(bigNumber())
        case 9: return .bulkError(binary())
        default: return .verbatimString(format: format(), text: binary())
        }
    }

    mutating func value(depth: Int = 0) -> RESPValue {
        if depth >= maxDepth || rng.below(3) != 0 { return leaf() }
        let width = rng.below(maxWidth + 1)
        switch rng.below(5) {
        case 0: return .array((0..<width).map { _ in value(depth: depth + 1) })
        case 1: return .set((0..<width).map { _ in value(depth: depth + 1) })
        case 2: return .push((0..<width).map { _ in value(depth: depth + 1) })
        case 3: return .map((0..<width).map { _ in RESPPair(key: value(depth: depth + 1), value: value(depth: depth + 1)) })
        default:
            let attributes = (0..<rng.below(3)).map { _ in RESPPair(key: value(depth: depth + 1), value: value(depth: depth + 1)) }
            return .attributed(attributes: attributes, value: value(depth: depth + 1))
        }
    }
}

/// Decodes `input` with the batch API, ``RESPDecoder/decodeAll(_:_:)``, fed in pieces whose
/// ends are `cuts` (none: all at once), calling decodeAll once after every piece.
func batchDecode(_ input: ByteBuffer, cuts: [Int] = [], limits: RESPDecoder.Limits = .default) -> DecodeRun {
    var decoder = RESPDecoder(limits: limits)
    var buf = ByteBuffer()
    var run = DecodeRun()
    var start = 0
    for end in cuts + [input.readableBytes] where end >= start {
        var piece = input.getSlice(at: input.readerIndex + start, length: end - start)!
        buf.writeBuffer(&piece)
        start = end
        do {
            let before = run.tokens.count
            let count = try decoder.decodeAll(&buf) { run.tokens.append($0) }
            if count != run.tokens.count - before { Issue.record("decodeAll returned \(count), delivered \(run.tokens.count - before)") }
        } catch let error as RESPDecodingError {
            run.error = error
            break
        } catch {
            Issue.record("decodeAll threw a non-RESP error: \(error)")
            break
        }
    }
    run.leftover = buf.readableBytes
    run.consumedBytes = decoder.consumedBytes
    return run
}
