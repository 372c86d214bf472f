import NIOCore
import Testing

@testable import RESP

/// Every RESP2 and RESP3 type decodes to the right value, with the token holding exactly the
/// message's bytes.
@Suite struct RESPDecoderTests {
    @Test func simpleString() {
        #expect(decodeOne("+OK\r\n") == .simpleString(buffer("OK")))
        #expect(decodeOne("+\r\n") == .simpleString(ByteBuffer()))
        #expect(decodeOne("+hello world\r\n") == .simple("hello world"))
    }

    @Test func simpleError() {
        #expect(decodeOne("-ERR x\r\n") == .simpleError(buffer("ERR x")))
        let v = decodeOne("-WRONGTYPE Operation against a key\r\n")
        #expect(v?.isError == true)
        #expect(v?.errorMessage == "WRONGTYPE Operation against a key")
    }

    @Test func integers() {
        #expect(decodeOne(":-42\r\n") == .integer(-42))
        #expect(decodeOne(":0\r\n") == .integer(0))
        #expect(decodeOne(":1000\r\n") == .integer(1000))
        #expect(decodeOne(":+7\r\n") == .integer(7))
        #expect(decodeOne(":9223372036854775807\r\n") == .integer(Int64.max))
        #expect(decodeOne(":-9223372036854775807\r\n") == .integer(-Int64.max))
    }

    @Test func int64MinDecodes() {
        // The most negative 64-bit integer is a valid RESP integer (Redis can send it,
        // e.g. from INCRBY arithmetic, and our encoder writes it); parsing accumulates towards
        // the sign because +9223372036854775808 does not fit.
        #expect(decodeOne(":-9223372036854775808\r\n") == .integer(Int64.min))
    }

    @Test func bulkStrings() {
        #expect(decodeOne("$5\r\nhello\r\n") == .bulkString(buffer("hello")))
        #expect(decodeOne("$0\r\n\r\n") == .bulkString(ByteBuffer()))
        #expect(decodeOne("$5\r\nhello\r\n")?.string == "hello")
    }

    @Test func binaryBulkStrings() {
        let body: [UInt8] = [0x0D, 0x0A, 0x00, 0x24, 0x33, 0x0D, 0x0A, 0xFF, 0x00, 0x0D]
        var message = buffer("$10\r\n")
        message.writeBytes(body)
        message.writeString("\r\n")
        #expect(decodeOne(message) == .bulkString(buffer(body)))
        #expect(decodeOne(message)?.bytes.map(bytesOf) == body)

        // A body that is nothing but CRLF.
        #expect(decodeOne("$2\r\n\r\n\r\n") == .bulkString(buffer("\r\n")))
        // Every byte value.
        var all = buffer("$256\r\n")
        all.writeBytes(Array(0...255) as [UInt8])
        all.writeString("\r\n")
        #expect(decodeOne(all) == .bulkString(buffer(Array(0...255) as [UInt8])))
    }

    @Test func nulls() {
        #expect(decodeOne("$-1\r\n") == .null)
        #expect(decodeOne("*-1\r\n") == .null)
        #expect(decodeOne("_\r\n") == .null)
    }

    @Test func arrays() {
        #expect(decodeOne("*0\r\n") == .array([]))
        #expect(decodeOne("*2\r\n$3\r\nfoo\r\n:7\r\n") == .array([.bulk("foo"), .integer(7)]))
        #expect(decodeOne("*3\r\n$-1\r\n*-1\r\n_\r\n") == .array([.null, .null, .null]))
        let nested = "*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n"
        #expect(decodeOne(nested) == .array([
            .array([.integer(1), .integer(2), .integer(3)]),
            .array([.simple("Hello"), .error("World")]),
        ]))
        #expect(decodeOne("*1\r\n*1\r\n*1\r\n*0\r\n") == .array([.array([.array([.array([])])])]))
        #expect(decodeOne("*2\r\n*0\r\n*0\r\n") == .array([.array([]), .array([])]))
    }

    @Test func deepNestingUpToTheLimitDecodes() {
        // 128 nested arrays (the default maxDepth) around an integer.
        let text = String(repeating: "*1\r\n", count: 128) + ":5\r\n"
        var expected = RESPValue.integer(5)
        for _ in 0..<128 { expected = .array([expected]) }
        #expect(decodeOne(text) == expected)
    }

    @Test func resp3Null() {
        #expect(decodeOne("_\r\n") == .null)
    }

    @Test func booleans() {
        #expect(decodeOne("#t\r\n") == .boolean(true))
        #expect(decodeOne("#f\r\n") == .boolean(false))
    }

    @Test func doubles() {
        #expect(decodeOne(",3.14\r\n") == .double(3.14))
        #expect(decodeOne(",inf\r\n") == .double(.infinity))
        #expect(decodeOne(",-inf\r\n") == .double(-.infinity))
        #expect(decodeOne(",+inf\r\n") == .double(.infinity))
        #expect(decodeOne(",10\r\n") == .double(10))
        #expect(decodeOne(",-1.5e3\r\n") == .double(-1500))
        #expect(decodeOne(",1.23E-2\r\n") == .double(0.0123))
        guard case .double(let nan) = decodeOne(",nan\r\n") else {
            Issue.record("nan is not a double")
            return
        }
        #expect(nan.isNaN)
        guard case .double(let negativeZero) = decodeOne(",-0.0\r\n") else {
            Issue.record("-0.0 is not a double")
            return
        }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func bigNumber() {
        #expect(decodeOne("(3492890328409238509324850943850943825024385\r\n")
            == .bigNumber("3492890328409238509324850943850943825024385"))
        #expect(decodeOne("(-3492890328409238509324850943850943825024385\r\n")
            == .bigNumber("-3492890328409238509324850943850943825024385"))
        #expect(decodeOne("(0\r\n") == .bigNumber("0"))
    }

    @Test func bulkError() {
        let v = decodeOne("!21\r\nSYNTAX invalid syntax\r\n")
        #expect(v == .bulkError(buffer("SYNTAX invalid syntax")))
        #expect(v?.isError == true)
        #expect(v?.errorMessage == "SYNTAX invalid syntax")
        #expect(decodeOne("!0\r\n\r\n") == .bulkError(ByteBuffer()))
        #expect(decodeOne("!4\r\na\r\nb\r\n") == .bulkError(buffer("a\r\nb")))
    }

    @Test func verbatimString() {
        #expect(decodeOne("=15\r\ntxt:Some string\r\n") == .verbatimString(format: "txt", text: buffer("Some string")))
        #expect(decodeOne("=4\r\nmkd:\r\n") == .verbatimString(format: "mkd", text: ByteBuffer()))
        #expect(decodeOne("=9\r\ntxt:a\r\nbc\r\n") == .verbatimString(format: "txt", text: buffer("a\r\nbc")))
        #expect(decodeOne("=15\r\ntxt:Some string\r\n")?.string == "Some string")
    }

    @Test func map() {
        let v = decodeOne("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n")
        #expect(v == .map([
            RESPPair(key: .simple("first"), value: .integer(1)),
            RESPPair(key: .simple("second"), value: .integer(2)),
        ]))
        #expect(decodeOne("%0\r\n") == .map([]))
        // Aggregates as keys and values, order preserved even with equal keys.
        #expect(decodeOne("%2\r\n*1\r\n:1\r\n%1\r\n_\r\n#t\r\n*1\r\n:1\r\n~0\r\n") == .map([
            RESPPair(key: .array([.integer(1)]), value: .map([RESPPair(key: .null, value: .boolean(true))])),
            RESPPair(key: .array([.integer(1)]), value: .set([])),
        ]))
    }

    @Test func set() {
        #expect(decodeOne("~3\r\n+a\r\n:2\r\n$1\r\nc\r\n") == .set([.simple("a"), .integer(2), .bulk("c")]))
        #expect(decodeOne("~0\r\n") == .set([]))
    }

    @Test func push() {
        let v = decodeOne(">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n")
        #expect(v == .push([.bulk("message"), .bulk("chan"), .bulk("hello")]))
        #expect(v?.elements?.count == 3)
        #expect(decodeOne(">0\r\n") == .push([]))
    }

    @Test func attribute() {
        let text = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"
        #expect(decodeOne(text) == .attributed(
            attributes: [RESPPair(key: .simple("key-popularity"), value: .map([
                RESPPair(key: .bulk("a"), value: .double(0.1923)),
                RESPPair(key: .bulk("b"), value: .double(0.0012)),
            ]))],
            value: .array([.integer(2039123), .integer(9543892)])))
        // An attribute with no pairs still needs the value that follows.
        #expect(decodeOne("|0\r\n:1\r\n") == .attributed(attributes: [], value: .integer(1)))
        // Attributes inside an array describe one element; the array still has two.
        #expect(decodeOne("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n") == .array([
            .attributed(attributes: [RESPPair(key: .simple("a"), value: .simple("b"))], value: .integer(1)),
            .integer(2),
        ]))
        // Accessors look through attributes.
        #expect(decodeOne("|1\r\n+a\r\n+b\r\n$2\r\n42\r\n")?.int == 42)
    }

    @Test func tokenKeepsExactBytesAndTypeByte() throws {
        var buf = buffer("-ERR x\r\n!3\r\nbad\r\n$1\r\nx\r\n")
        var decoder = RESPDecoder()
        let first = try #require(try decoder.decode(&buf))
        let second = try #require(try decoder.decode(&buf))
        let third = try #require(try decoder.decode(&buf))
        #expect(try decoder.decode(&buf) == nil)
        #expect(first.bytes == buffer("-ERR x\r\n"))
        #expect(second.bytes == buffer("!3\r\nbad\r\n"))
        #expect(third.bytes == buffer("$1\r\nx\r\n"))
        #expect(first.typeByte == UInt8(ascii: "-") && first.isError)
        #expect(second.typeByte == UInt8(ascii: "!") && second.isError)
        #expect(third.typeByte == UInt8(ascii: "$") && !third.isError)
        #expect(decoder.consumedBytes == 8 + 9 + 7)
    }

    @Test func tokenValidating() throws {
        let token = try RESPToken(validating: buffer("*1\r\n:1\r\n"))
        #expect(token.value == .array([.integer(1)]))

        do {
            _ = try RESPToken(validating: buffer("*2\r\n:1\r\n"))
            Issue.record("an incomplete message was accepted")
        } catch {
            #expect(error.offset == 8)
            #expect(error.reason.contains("incomplete"))
        }
        do {
            _ = try RESPToken(validating: buffer("+OK\r\n:1\r\n"))
            Issue.record("trailing bytes were accepted")
        } catch {
            #expect(error.offset == 5)
            #expect(error.reason.contains("4 bytes after"))
        }
        do {
            _ = try RESPToken(validating: buffer(":x\r\n"))
            Issue.record("a malformed message was accepted")
        } catch {
            #expect(error.offset == 1)
            #expect(error.reason.contains("invalid integer"))
        }
    }

    @Test func valueAccessors() {
        #expect(RESPValue.bulk("12").int == 12)
        #expect(RESPValue.integer(-3).string == "-3")
        #expect(RESPValue.double(2).string == "2")
        #expect(RESPValue.double(.infinity).string == "inf")
        #expect(RESPValue.double(-.infinity).string == "-inf")
        #expect(RESPValue.double(.nan).string == "nan")
        #expect(RESPValue.double(2.5).string == "2.5")
        #expect(RESPValue.double(2.5).int == nil)
        #expect(RESPValue.boolean(true).int == 1)
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.array([]).string == nil)
        #expect(RESPValue.map([]).elements == nil)
        #expect(RESPValue.set([1]).elements == [1])
        #expect(RESPValue.simple("OK").isError == false)
        #expect(RESPValue.error("ERR x").errorMessage == "ERR x")
        let literal: RESPValue = ["a", 1, ["b"]]
        #expect(literal == .array([.bulk("a"), .integer(1), .array([.bulk("b")])]))
    }
}
