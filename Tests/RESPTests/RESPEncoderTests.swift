import NIOCore
import Testing

@testable import RESP

/// `writeRESPCommand` and `writeRESPValue` write exact bytes, and what they write decodes
/// back to the value written.
@Suite struct RESPEncoderTests {
    // MARK: Commands

    @Test func setCommandExactBytes() {
        let expected = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        var out = ByteBuffer()
        let written = out.writeRESPCommand(["SET", "k", "v"])
        #expect(String(buffer: out) == expected)
        #expect(written == expected.utf8.count)
        #expect(encode(RESPCommand("SET", "k", "v")) == buffer(expected))
        #expect(encode(RESPCommand([.string("SET"), .bytes(buffer("k")), .string("v")])) == buffer(expected))
    }

    @Test func bulkArrayOfAnyWordsMatchesTheCommandEncoding() {
        let words: [[UInt8]] = [Array("SET".utf8), [], Array("k\r\n\u{0}".utf8), Array(repeating: 0x61, count: 1234)]
        var viaClosures = buffer("x")
        let written = viaClosures.writeRESPBulkArray(words, length: { $0.count }, copy: { word, out in
            word.withUnsafeBytes { out.copyMemory(from: $0) }
        })
        var viaCommand = buffer("x")
        viaCommand.writeRESPCommand(RESPCommand(words.map { .bytes(ByteBuffer(bytes: $0)) }))
        #expect(viaClosures == viaCommand)
        #expect(written == viaCommand.readableBytes - 1)
    }

    @Test func commandAppendsAfterExistingBytes() {
        var out = buffer("prefix")
        let written = out.writeRESPCommand(["PING"])
        #expect(written == 14)
        #expect(String(buffer: out) == "prefix*1\r\n$4\r\nPING\r\n")
        out.writeRESPCommand(["GET", "a"])
        #expect(String(buffer: out) == "prefix*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    }

    @Test func commandNameAndDescription() {
        let command: RESPCommand = ["set", "secret-key", "secret-value"]
        #expect(command.name == "SET")
        #expect(command.description == "SET")
        #expect(!command.description.contains("secret"))
        #expect(RESPCommand([.bytes(buffer("hgetall"))]).name == "HGETALL")
        #expect(RESPCommand([]).name == "")
        #expect(encode(RESPCommand([])) == buffer("*0\r\n"))
    }

    @Test func binaryAndUnicodeArguments() throws {
        let binary: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x24, 0x31, 0x0D, 0x0A, 0x00]
        let command = RESPCommand([.string("SET"), .bytes(buffer(binary)), .string("é日"), .bytes(ByteBuffer()), 42, -7])
        var expected: [UInt8] = Array("*6\r\n$3\r\nSET\r\n$9\r\n".utf8) + binary + Array("\r\n".utf8)
        expected += Array("$5\r\n".utf8) + [0xC3, 0xA9, 0xE6, 0x97, 0xA5] + Array("\r\n".utf8)
        expected += Array("$0\r\n\r\n$2\r\n42\r\n$2\r\n-7\r\n".utf8)
        let out = encode(command)
        #expect(bytesOf(out) == expected)
        #expect(decodeOne(out) == .array([
            .bulk("SET"), .bulkString(buffer(binary)), .bulk("é日"), .bulkString(ByteBuffer()), .bulk("42"), .bulk("-7"),
        ]))
    }

    @Test func bytesArgumentUsesOnlyReadableBytes() {
        var b = buffer("skipKEEP")
        b.moveReaderIndex(forwardBy: 4)
        #expect(encode(RESPCommand([.bytes(b)])) == buffer("*1\r\n$4\r\nKEEP\r\n"))
    }

    @Test func longArgumentsAndManyArguments() {
        let big = String(repeating: "x", count: 100_000)
        #expect(encode(RESPCommand("SET", "k", big)) == buffer("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n\(big)\r\n"))
        let many = RESPCommand((0..<1234).map { RESPArgument.string(String($0)) })
        let out = encode(many)
        #expect(String(buffer: out).hasPrefix("*1234\r\n$1\r\n0\r\n$1\r\n1\r\n"))
        #expect(decodeOne(out) == .array((0..<1234).map { .bulk(String($0)) }))
    }

    // MARK: Values, exact bytes

    @Test func valueExactBytes() {
        let cases: [(RESPValue, String)] = [
            (.simple("OK"), "+OK\r\n"),
            (.error("ERR x"), "-ERR x\r\n"),
            (.integer(-42), ":-42\r\n"),
            (.integer(0), ":0\r\n"),
            (.bulk("hello"), "$5\r\nhello\r\n"),
            (.bulk(""), "$0\r\n\r\n"),
            (.null, "_\r\n"),
            (.array([]), "*0\r\n"),
            (.array([.integer(1), .bulk("a")]), "*2\r\n:1\r\n$1\r\na\r\n"),
            (.double(3.14), ",3.14\r\n"),
            (.double(.infinity), ",inf\r\n"),
            (.double(-.infinity), ",-inf\r\n"),
            (.double(.nan), ",nan\r\n"),
            (.double(-0.0), ",-0.0\r\n"),
            (.boolean(true), "#t\r\n"),
            (.boolean(false), "#f\r\n"),
            (.bigNumber("3492890328409238509324850943850943825024385"), "(3492890328409238509324850943850943825024385\r\n"),
            (.bulkError(buffer("SYNTAX invalid syntax")), "!21\r\nSYNTAX invalid syntax\r\n"),
            (.verbatimString(format: "txt", text: buffer("Some string")), "=15\r\ntxt:Some string\r\n"),
            (.map([RESPPair(key: .simple("a"), value: .integer(1))]), "%1\r\n+a\r\n:1\r\n"),
            (.map([]), "%0\r\n"),
            (.set([.integer(1)]), "~1\r\n:1\r\n"),
            (.push([.bulk("message")]), ">1\r\n$7\r\nmessage\r\n"),
            (.attributed(attributes: [RESPPair(key: .simple("a"), value: .simple("b"))], value: .integer(1)),
             "|1\r\n+a\r\n+b\r\n:1\r\n"),
        ]
        for (value, text) in cases {
            var out = buffer("xyz")  // appends, and returns only what it wrote
            let written = out.writeRESPValue(value)
            #expect(String(buffer: out) == "xyz" + text, "\(text)")
            #expect(written == text.utf8.count)
        }
    }

    @Test func resp2NullDecodesAsNull() {
        var out = ByteBuffer()
        out.writeRESP2Null()
        #expect(out == buffer("$-1\r\n"))
        #expect(decodeOne(out) == .null)
    }

    @Test func verbatimFormatIsPaddedOrCutToThreeCharacters() {
        #expect(encode(.verbatimString(format: "tx", text: buffer("a"))) == buffer("=5\r\ntx :a\r\n"))
        #expect(encode(.verbatimString(format: "", text: buffer("a"))) == buffer("=5\r\n   :a\r\n"))
        #expect(encode(.verbatimString(format: "markdown", text: buffer("a"))) == buffer("=5\r\nmar:a\r\n"))
    }

    @Test func verbatimFormatWithNonASCIIStillMatchesTheLengthHeader() {
        // Whatever the format string holds, the encoder must write a message whose body is
        // as long as its header says, or the stream is desynchronised from there on.
        for format in ["é", "éé", "日本語", "e\u{301}xy", "\u{FFFD}\u{FFFD}\u{FFFD}"] {
            let out = encode(.verbatimString(format: format, text: buffer("hi")))
            let run = decodeAll(out)
            #expect(run.error == nil, "format \(format): \(escaped(out))")
            #expect(run.tokens.count == 1 && run.leftover == 0, "format \(format): \(escaped(out))")
            guard case .verbatimString(_, let text)? = run.tokens.first?.value else { continue }
            #expect(text == buffer("hi"))
        }
    }

    @Test func verbatimWithNonUTF8FormatReencodesWellFramed() {
        // The format is kept as a String, so bytes that are not UTF-8 are repaired (a known
        // limitation); re-encoding must still give one well-framed message with the same text.
        var message = buffer("=6\r\n")
        message.writeBytes([0xFF, 0xC3, 0x28])
        message.writeString(":ab\r\n")
        guard let value = decodeOne(message), case .verbatimString(_, let text) = value else {
            Issue.record("not a verbatim string")
            return
        }
        #expect(text == buffer("ab"))
        let out = encode(value)
        let run = decodeAll(out)
        #expect(run.error == nil && run.tokens.count == 1 && run.leftover == 0, "\(escaped(out))")
        guard case .verbatimString(_, let again)? = run.tokens.first?.value else { return }
        #expect(again == buffer("ab"))
    }

    // MARK: Integers

    /// Powers of ten and their neighbours, negated too, plus the extremes.
    static let interestingIntegers: [Int64] = {
        var values: [Int64] = [0, 1, -1, Int64.max, Int64.min + 1, Int64.max - 1, Int64(Int32.max), Int64(Int32.min),
                               Int64(UInt32.max), 255, 256, 65535, 65536]
        var p: Int64 = 1
        for _ in 0...18 {
            values += [p - 1, p, p + 1, -(p - 1), -p, -(p + 1)]
            if p <= Int64.max / 10 { p *= 10 }
        }
        return values
    }()

    @Test func integersOfManySizes() {
        for i in Self.interestingIntegers {
            let out = encode(.integer(i))
            #expect(String(buffer: out) == ":\(i)\r\n")
            #expect(decodeOne(out) == .integer(i), "\(i)")
        }
        for n in [0, 1, 9, 10, 99, 100, 12345, 1_000_000] {
            let s = String(repeating: "a", count: n)
            #expect(String(buffer: encode(.bulk(s))) == "$\(n)\r\n\(s)\r\n")
            #expect(String(buffer: encode(.array(Array(repeating: .null, count: n % 1000))))
                .hasPrefix("*\(n % 1000)\r\n"))
        }
    }

    @Test func int64MinEncodesExactly() {
        #expect(String(buffer: encode(.integer(Int64.min))) == ":-9223372036854775808\r\n")
        #expect(String(buffer: encode(.integer(Int64.max))) == ":9223372036854775807\r\n")
    }

    @Test func int64MinRoundTrips() {
        #expect(decodeAll(encode(.integer(Int64.min))).tokens.first?.value == .integer(Int64.min))
    }

    @Test func randomIntegersRoundTrip() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            var i = Int64(bitPattern: rng.next()) >> rng.below(64)
            if i == Int64.min { i += 1 }  // covered by int64MinRoundTrips
            let out = encode(.integer(i))
            #expect(String(buffer: out) == ":\(i)\r\n")
            let back = decodeAll(out).tokens.first?.value
            if back != .integer(i) {
                Issue.record("\(i) came back as \(String(describing: back))")
                break
            }
        }
    }

    // MARK: Round trips

    @Test func everyCaseRoundTrips() {
        let binary: [UInt8] = [0x00, 0x0D, 0x0A, 0x0D, 0xFF, 0x0A]
        let values: [RESPValue] = [
            .simple("OK"), .simple(""), .simpleString(buffer([0x00, 0xFF, 0x20])), .error("ERR x"), .error(""),
            .integer(0), .integer(-42), .integer(Int64.max),
            .bulk("hello"), .bulk(""), .bulkString(buffer(binary)), .bulk("\r\n"),
            .null,
            .array([]), .array([.null, .array([]), .array([.array([.integer(1)])])]),
            .double(3.14), .double(-0.0), .double(0), .double(.infinity), .double(-.infinity), .double(1e300),
            .double(.leastNonzeroMagnitude), .double(-.greatestFiniteMagnitude), .double(0.1 + 0.2), .double(1e16),
            .boolean(true), .boolean(false),
            .bigNumber("3492890328409238509324850943850943825024385"), .bigNumber("-1"), .bigNumber("+0"),
            .bulkError(buffer("SYNTAX invalid syntax")), .bulkError(buffer(binary)), .bulkError(ByteBuffer()),
            .verbatimString(format: "txt", text: buffer("Some string")), .verbatimString(format: "mkd", text: buffer(binary)),
            .verbatimString(format: "txt", text: ByteBuffer()),
            .map([]), .map([RESPPair(key: .bulk("a"), value: .map([RESPPair(key: .null, value: .set([]))]))]),
            .set([]), .set([.integer(1), .bulk("x"), .double(2.5)]),
            .push([]), .push([.bulk("invalidate"), .array([.bulk("k1"), .bulk("k2")])]),
            .attributed(attributes: [], value: .null),
            .attributed(attributes: [RESPPair(key: .simple("ttl"), value: .integer(5))],
                        value: .array([.attributed(attributes: [RESPPair(key: .bulk("x"), value: .boolean(true))], value: .bulk("y"))])),
            .attributed(attributes: [RESPPair(key: .null, value: .null)],
                        value: .attributed(attributes: [], value: .integer(1))),
        ]
        for value in values {
            let out = encode(value)
            let back = decodeOne(out)
            #expect(back.map { equivalent($0, value) } == true, "\(escaped(out))")
            #expect(back.map(encode) == out)
        }
        // And all of them in one array, and pipelined one after another.
        #expect(decodeOne(encode(.array(values))).map { equivalent($0, .array(values)) } == true)
        var pipelined = ByteBuffer()
        for v in values { pipelined.writeRESPValue(v) }
        let run = decodeAll(pipelined)
        #expect(run.error == nil && run.leftover == 0)
        #expect(run.tokens.count == values.count)
        #expect(zip(run.tokens, values).allSatisfy { equivalent($0.value, $1) })
    }

    @Test func nanRoundTripsAsNaN() {
        guard case .double(let d)? = decodeOne(encode(.double(.nan))) else {
            Issue.record("NaN did not come back as a double")
            return
        }
        #expect(d.isNaN)
        guard case .double(let s)? = decodeOne(encode(.double(-.signalingNaN))) else {
            Issue.record("-sNaN did not come back as a double")
            return
        }
        #expect(s.isNaN)
    }

    @Test func randomDoublesRoundTripBitForBit() {
        var rng = SplitMix64(seed: 7)
        for k in 0..<5000 {
            let d = k % 2 == 0 ? Double(bitPattern: rng.next()) : Double(Int64(rng.below(2_000_000)) - 1_000_000) / 1024
            let out = encode(.double(d))
            guard case .double(let back)? = decodeAll(out).tokens.first?.value else {
                Issue.record("\(d) (\(escaped(out))) did not decode to a double")
                break
            }
            if !((d.isNaN && back.isNaN) || d.bitPattern == back.bitPattern) {
                Issue.record("\(d) came back as \(back)")
                break
            }
        }
    }

    @Test func encodedLengthMatchesWhatTheDecoderConsumes() {
        var gen = ValueGenerator(seed: 99)
        for _ in 0..<500 {
            let value = gen.value()
            var out = ByteBuffer()
            let written = out.writeRESPValue(value)
            #expect(written == out.readableBytes)
            let run = decodeAll(out)
            #expect(run.consumedBytes == written, "\(escaped(out))")
        }
    }
}
