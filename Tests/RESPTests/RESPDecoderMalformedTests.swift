import NIOCore
import Testing

@testable import RESP

/// Malformed input is rejected with the absolute stream offset of the first bad byte and a
/// reason in words.
@Suite struct RESPDecoderMalformedTests {
    // MARK: Type bytes

    @Test func unknownTypeByte() {
        expectMalformed("?foo\r\n", offset: 0, reasonContains: ["unknown RESP type byte", "0x3F '?'"])
        expectMalformed("+OK\r\n?foo\r\n", offset: 5, reasonContains: ["unknown RESP type byte", "'?'"])
        expectMalformed("+OK\r\n:1\r\nhello\r\n", offset: 9, reasonContains: ["unknown", "0x68 'h'"])
        expectMalformed(buffer([0x00, 0x0D, 0x0A]), offset: 0, reasonContains: ["unknown", "0x00"])
        // Inside an aggregate the offset is that of the element.
        expectMalformed("*2\r\n:1\r\n@x\r\n", offset: 8, reasonContains: ["unknown", "'@'"])
        // Inline commands (as typed into telnet) are not RESP replies.
        expectMalformed("PING\r\n", offset: 0, reasonContains: ["unknown", "'P'"])
    }

    @Test func unknownTypeByteIsRejectedBeforeTheLineIsComplete() {
        for text in ["?", "?f", "?foo", "A", " ", "\n", "\r", "PING"] {
            expectMalformed(text, offset: 0, reasonContains: ["unknown RESP type byte"])
        }
        expectMalformed("+OK\r\n?", offset: 5, reasonContains: ["unknown"])
        expectMalformed("*2\r\n:1\r\n?", offset: 8, reasonContains: ["unknown"])
        expectMalformed(buffer([0xFF]), offset: 0, reasonContains: ["unknown", "0xFF"])
    }

    @Test func unknownTypeByteIsRejectedWhenOnlyTheLFIsMissing() {
        // The type byte alone says the message is garbage: a CR with no LF yet must not
        // make the decoder wait for more bytes, nor report the byte after the CR instead.
        expectMalformed("?\r", offset: 0, reasonContains: ["unknown RESP type byte"])
        expectMalformed("?foo\r", offset: 0, reasonContains: ["unknown RESP type byte"])
        expectMalformed("?foo\rX", offset: 0, reasonContains: ["unknown RESP type byte"])
    }

    @Test func unknownTypeByteFedByteByByteIsRejectedAtOnce() throws {
        var decoder = RESPDecoder()
        var buf = buffer("+OK\r\n")
        #expect(try decoder.decode(&buf)?.value == .simple("OK"))
        buf.writeString("?")
        do {
            _ = try decoder.decode(&buf)
            Issue.record("no error for a lone '?'")
        } catch {
            #expect(error.offset == 5)
        }
    }

    // MARK: Line endings

    @Test func crNotFollowedByLF() {
        expectMalformed("+OK\rX\r\n", offset: 4, reasonContains: ["expected LF after CR", "0x58 'X'"])
        expectMalformed("+OK\r\r\n", offset: 4, reasonContains: ["expected LF after CR", "0x0D"])
        expectMalformed(":1\r:2\r\n", offset: 3, reasonContains: ["expected LF after CR"])
        expectMalformed("$3\rabc\r\n", offset: 3, reasonContains: ["expected LF after CR", "'a'"])
        expectMalformed("*1\r*", offset: 3, reasonContains: ["expected LF after CR"])
        expectMalformed("+OK\r\n+A\rB\r\n", offset: 8, reasonContains: ["expected LF after CR", "'B'"])
        expectMalformed("*2\r\n+a\r\n-b\r c\r\n", offset: 11, reasonContains: ["expected LF after CR", "0x20 ' '"])
    }

    // MARK: Integers and lengths

    @Test func invalidInteger() {
        expectMalformed(":12a\r\n", offset: 1, reasonContains: ["invalid integer", "\"12a\""])
        expectMalformed(":\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(":-\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(":+\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(": 1\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(":1.5\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(":--1\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed(":9223372036854775808\r\n", offset: 1, reasonContains: ["invalid integer"])  // Int64.max + 1
        expectMalformed(":-9223372036854775809\r\n", offset: 1, reasonContains: ["invalid integer"])  // Int64.min - 1
        expectMalformed(":12345678901234567890\r\n", offset: 1, reasonContains: ["invalid integer"])
        expectMalformed("+OK\r\n*1\r\n:0x10\r\n", offset: 10, reasonContains: ["invalid integer", "0x10"])
        // Non-printable bytes are escaped in the reason.
        expectMalformed(buffer([0x3A, 0x31, 0x00, 0x0D, 0x0A]), offset: 1, reasonContains: ["\"1\\x00\""])
    }

    @Test func invalidLengthsAndCounts() {
        expectMalformed("$abc\r\n", offset: 1, reasonContains: ["invalid bulk string length", "\"abc\""])
        expectMalformed("$\r\n", offset: 1, reasonContains: ["invalid bulk string length"])
        expectMalformed("!x\r\n", offset: 1, reasonContains: ["invalid bulk error length"])
        expectMalformed("=1.0\r\n", offset: 1, reasonContains: ["invalid verbatim string length"])
        expectMalformed("*x\r\n", offset: 1, reasonContains: ["invalid array count"])
        expectMalformed("%\r\n", offset: 1, reasonContains: ["invalid map count"])
        expectMalformed("~ 1\r\n", offset: 1, reasonContains: ["invalid set count"])
        expectMalformed(">1a\r\n", offset: 1, reasonContains: ["invalid push count"])
        expectMalformed("|--\r\n", offset: 1, reasonContains: ["invalid attribute count"])
    }

    @Test func negativeLengthsAndCounts() {
        expectMalformed("$-2\r\n", offset: 1, reasonContains: ["negative bulk string length -2"])
        expectMalformed("$-100\r\n", offset: 1, reasonContains: ["negative bulk string length -100"])
        expectMalformed("!-1\r\n", offset: 1, reasonContains: ["negative bulk error length -1"])
        expectMalformed("=-1\r\n", offset: 1, reasonContains: ["negative verbatim string length"])
        expectMalformed("*-2\r\n", offset: 1, reasonContains: ["negative array count -2"])
        expectMalformed("%-1\r\n", offset: 1, reasonContains: ["negative map count -1"])
        expectMalformed("~-1\r\n", offset: 1, reasonContains: ["negative set count -1"])
        expectMalformed(">-1\r\n", offset: 1, reasonContains: ["negative push count -1"])
        expectMalformed("|-1\r\n", offset: 1, reasonContains: ["negative attribute count -1"])
        expectMalformed("*1\r\n$-2\r\n", offset: 5, reasonContains: ["negative"])
    }

    // MARK: Bulk bodies

    @Test func bulkBodyNotFollowedByCRLF() {
        expectMalformed("$3\r\nabcXY", offset: 7, reasonContains: ["bulk string of 3 bytes is not followed by CRLF"])
        expectMalformed("$3\r\nabc\rX", offset: 7, reasonContains: ["not followed by CRLF"])
        expectMalformed("$3\r\nabcd\r\n", offset: 7, reasonContains: ["not followed by CRLF"])
        expectMalformed("$3\r\nab\r\n\r\n", offset: 7, reasonContains: ["not followed by CRLF"])  // short body
        expectMalformed("$0\r\nXY", offset: 4, reasonContains: ["bulk string of 0 bytes"])
        expectMalformed("!2\r\nabc\r\n", offset: 6, reasonContains: ["bulk error of 2 bytes is not followed by CRLF"])
        expectMalformed("=5\r\ntxt:ab\r\n", offset: 9, reasonContains: ["verbatim string of 5 bytes is not followed by CRLF"])
        expectMalformed("*1\r\n$3\r\nabcd\r\n", offset: 11, reasonContains: ["not followed by CRLF"])
        expectMalformed("+OK\r\n$1\r\nxx\r\n", offset: 10, reasonContains: ["not followed by CRLF"])
    }

    @Test func bulkLengthOverTheLimit() {
        let max = RESPDecoder.Limits.default.maxBulkLength
        expectMalformed("$\(max + 1)\r\n", offset: 1, reasonContains: ["bulk string length \(max + 1) exceeds the limit of \(max) bytes"])
        expectMalformed("$999999999999\r\n", offset: 1, reasonContains: ["exceeds the limit"])
        expectMalformed("$9223372036854775807\r\n", offset: 1, reasonContains: ["exceeds the limit"])
        // At the limit it is merely incomplete.
        let atLimit = decodeAll(buffer("$\(max)\r\nabc"))
        #expect(atLimit.error == nil && atLimit.tokens.isEmpty && atLimit.leftover == 3 + "$\(max)\r\n".utf8.count)

        let small = RESPDecoder.Limits(maxBulkLength: 10)
        expectMalformed("$11\r\n", offset: 1, reasonContains: ["bulk string length 11 exceeds the limit of 10 bytes"], limits: small)
        expectMalformed("!11\r\n", offset: 1, reasonContains: ["bulk error length 11 exceeds"], limits: small)
        expectMalformed("=11\r\n", offset: 1, reasonContains: ["verbatim string length 11 exceeds"], limits: small)
        expectMalformed("*1\r\n$11\r\n", offset: 5, reasonContains: ["exceeds"], limits: small)
        #expect(decodeAll(buffer("$10\r\n0123456789\r\n"), limits: small).tokens.first?.value == .bulk("0123456789"))
    }

    @Test func aggregateCountOverTheLimit() {
        expectMalformed("*2147483648\r\n", offset: 1, reasonContains: ["array count 2147483648 exceeds the limit of 2147483647"])
        expectMalformed("%9223372036854775807\r\n", offset: 1, reasonContains: ["map count", "exceeds the limit"])
        let small = RESPDecoder.Limits(maxAggregateCount: 3)
        expectMalformed("*4\r\n", offset: 1, reasonContains: ["array count 4 exceeds the limit of 3"], limits: small)
        expectMalformed("%4\r\n", offset: 1, reasonContains: ["map count 4 exceeds"], limits: small)
        expectMalformed("~4\r\n", offset: 1, reasonContains: ["set count 4 exceeds"], limits: small)
        expectMalformed(">4\r\n", offset: 1, reasonContains: ["push count 4 exceeds"], limits: small)
        expectMalformed("|4\r\n", offset: 1, reasonContains: ["attribute count 4 exceeds"], limits: small)
        expectMalformed("*1\r\n*4\r\n", offset: 5, reasonContains: ["exceeds"], limits: small)
        // The count limit is on pairs for maps: 3 pairs (6 elements) pass.
        #expect(decodeAll(buffer("%3\r\n:1\r\n:1\r\n:2\r\n:2\r\n:3\r\n:3\r\n"), limits: small).error == nil)
    }

    @Test func hugeDeclaredCountsDoNotAllocateOrComplete() {
        // A header promising 2^31-1 elements followed by a few of them is just incomplete.
        let run = decodeAll(buffer("*2147483647\r\n:1\r\n:2\r\n$1\r\nx\r\n"))
        #expect(run.error == nil)
        #expect(run.tokens.isEmpty)
        #expect(run.leftover == 13 + 4 + 4 + 7)
    }

    // MARK: Nesting

    @Test func nestingDeeperThanMaxDepth() {
        let text = String(repeating: "*1\r\n", count: 200) + ":1\r\n"
        // Levels 1...128 are fine; the 129th header, at 128 * 4 bytes, is one too many.
        expectMalformed(text, offset: 512, reasonContains: ["nested deeper than 128 levels"])
        expectMalformed("+OK\r\n" + text, offset: 517, reasonContains: ["nested deeper than 128"])
        // 129 levels is already too many, even before the element arrives.
        expectMalformed(String(repeating: "*1\r\n", count: 129), offset: 512, reasonContains: ["deeper"])

        let shallow = RESPDecoder.Limits(maxDepth: 2)
        expectMalformed("*1\r\n~1\r\n>1\r\n:1\r\n", offset: 8, reasonContains: ["nested deeper than 2 levels"], limits: shallow)
        expectMalformed("%1\r\n:1\r\n|1\r\n*1\r\n", offset: 12, reasonContains: ["deeper"], limits: shallow)
        // Empty aggregates open no level.
        #expect(decodeAll(buffer("*2\r\n*1\r\n*0\r\n%0\r\n"), limits: shallow).error == nil)
        let flat = RESPDecoder.Limits(maxDepth: 0)
        expectMalformed("*1\r\n:1\r\n", offset: 0, reasonContains: ["deeper than 0"], limits: flat)
        #expect(decodeAll(buffer("*0\r\n:1\r\n"), limits: flat).tokens.count == 2)
    }

    @Test func deepNestingOfMixedAggregates() {
        // Maps, sets, pushes and attributes count as levels like arrays do.
        var text = ""
        for i in 0..<129 { text += ["%1\r\n:0\r\n", "~1\r\n", ">1\r\n", "|0\r\n", "*1\r\n"][i % 5] }
        // Offset of the 129th header.
        var offset = 0
        for i in 0..<128 { offset += ["%1\r\n:0\r\n", "~1\r\n", ">1\r\n", "|0\r\n", "*1\r\n"][i % 5].utf8.count }
        // The 129th header starts after the ":0\r\n" key when it is a map.
        expectMalformed(text + ":1\r\n", offset: offset, reasonContains: ["deeper than 128"])
    }

    // MARK: RESP3 scalars

    @Test func invalidBoolean() {
        expectMalformed("#x\r\n", offset: 1, reasonContains: ["invalid boolean \"x\"", "expected t or f"])
        expectMalformed("#\r\n", offset: 1, reasonContains: ["invalid boolean"])
        expectMalformed("#tt\r\n", offset: 1, reasonContains: ["invalid boolean \"tt\""])
        expectMalformed("#T\r\n", offset: 1, reasonContains: ["invalid boolean"])
        expectMalformed("#1\r\n", offset: 1, reasonContains: ["invalid boolean"])
        expectMalformed("*2\r\n#t\r\n#false\r\n", offset: 9, reasonContains: ["invalid boolean"])
    }

    @Test func invalidDouble() {
        expectMalformed(",abc\r\n", offset: 1, reasonContains: ["invalid double \"abc\""])
        expectMalformed(",\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",1.2.3\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",infinity\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",Infinity\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",NaN\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",0x1p3\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",1e\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(", 1\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(",1,5\r\n", offset: 1, reasonContains: ["invalid double"])
        expectMalformed(":1\r\n,--1\r\n", offset: 5, reasonContains: ["invalid double"])
    }

    @Test func invalidBigNumber() {
        expectMalformed("(12a\r\n", offset: 1, reasonContains: ["invalid big number \"12a\""])
        expectMalformed("(\r\n", offset: 1, reasonContains: ["invalid big number"])
        expectMalformed("(-\r\n", offset: 1, reasonContains: ["invalid big number"])
        expectMalformed("(1.5\r\n", offset: 1, reasonContains: ["invalid big number"])
        expectMalformed("(1 2\r\n", offset: 1, reasonContains: ["invalid big number"])
    }

    @Test func nullWithPayload() {
        expectMalformed("_x\r\n", offset: 1, reasonContains: ["null (_) followed by \"x\""])
        expectMalformed("_ \r\n", offset: 1, reasonContains: ["null (_)"])
        expectMalformed("*1\r\n_0\r\n", offset: 5, reasonContains: ["null (_)"])
    }

    @Test func invalidVerbatimStrings() {
        expectMalformed("=3\r\ntxt\r\n", offset: 1, reasonContains: ["verbatim string of 3 bytes is too short"])
        expectMalformed("=0\r\n\r\n", offset: 1, reasonContains: ["too short"])
        expectMalformed("=5\r\ntxt!a\r\n", offset: 7, reasonContains: ["lacks the ':'"])
        expectMalformed("+OK\r\n=15\r\ntxt Some string\r\n", offset: 13, reasonContains: ["lacks the ':'"])
    }

    // MARK: Streamed (RESP3 chunked) types

    @Test func streamedTypesAreRejected() {
        expectMalformed("$?\r\n;4\r\nHell\r\n;0\r\n", offset: 0, reasonContains: ["streamed strings ($?) are not supported"])
        expectMalformed("!?\r\n", offset: 0, reasonContains: ["streamed strings"])
        expectMalformed("*?\r\n:1\r\n.\r\n", offset: 0, reasonContains: ["streamed aggregates (*?) are not supported"])
        expectMalformed("%?\r\n", offset: 0, reasonContains: ["streamed aggregates (%?)"])
        expectMalformed("~?\r\n", offset: 0, reasonContains: ["streamed aggregates (~?)"])
        expectMalformed("+OK\r\n$?\r\n", offset: 5, reasonContains: ["streamed strings"])
        expectMalformed("*1\r\n>?\r\n", offset: 4, reasonContains: ["streamed aggregates (>?)"])
    }

    // MARK: Line lengths

    @Test func lineLongerThanTheLimitWithoutCRLF() {
        let limits = RESPDecoder.Limits(maxLineLength: 10)
        expectMalformed("+" + String(repeating: "a", count: 11), offset: 0,
                        reasonContains: ["simple string line longer than 10 bytes without CRLF"], limits: limits)
        expectMalformed("+OK\r\n-" + String(repeating: "e", count: 11), offset: 5,
                        reasonContains: ["simple error line longer than 10 bytes"], limits: limits)
        expectMalformed("," + String(repeating: "1", count: 11) + "\r\n", offset: 0,
                        reasonContains: ["double line longer than 10"], limits: limits)
        expectMalformed("(" + String(repeating: "1", count: 12), offset: 0,
                        reasonContains: ["big number line longer than 10"], limits: limits)
        // Exactly at the limit: incomplete, then fine.
        let atLimit = decodeAll(buffer("+" + String(repeating: "a", count: 10)), limits: limits)
        #expect(atLimit.error == nil && atLimit.tokens.isEmpty)
        #expect(decodeAll(buffer("+" + String(repeating: "a", count: 10) + "\r\n"), limits: limits).tokens.count == 1)

        // The default limit is 1 MB.
        let mb = 1024 * 1024
        expectMalformed("+" + String(repeating: "a", count: mb + 1), offset: 0,
                        reasonContains: ["longer than \(mb) bytes"])
        #expect(decodeAll(buffer("+" + String(repeating: "a", count: mb))).error == nil)

        // Header lines with a number are capped much lower.
        expectMalformed(":" + String(repeating: "1", count: 25), offset: 0, reasonContains: ["integer line longer than 24 bytes"])
        expectMalformed("$" + String(repeating: "1", count: 25), offset: 0, reasonContains: ["bulk string line longer than 24"])
        expectMalformed("*" + String(repeating: "1", count: 25), offset: 0, reasonContains: ["array line longer than 24"])
        expectMalformed("#" + String(repeating: "t", count: 25), offset: 0, reasonContains: ["boolean line longer"])
        expectMalformed("_" + String(repeating: " ", count: 25), offset: 0, reasonContains: ["null line longer"])
        expectMalformed("+OK\r\n*1\r\n:" + String(repeating: "1", count: 30), offset: 9, reasonContains: ["integer line longer"])
    }

    // MARK: Offsets across calls

    @Test func offsetsAreAbsoluteAcrossCalls() throws {
        var decoder = RESPDecoder()
        var buf = buffer("+OK\r\n*2\r\n:1\r\n")
        #expect(try decoder.decode(&buf)?.value == .simple("OK"))
        #expect(try decoder.decode(&buf) == nil)
        buf.discardReadBytes()  // the caller may drop consumed bytes
        buf.writeString(":x\r\n")
        do {
            _ = try decoder.decode(&buf)
            Issue.record("no error")
        } catch {
            #expect(error.offset == 14)
            #expect(error.reason.contains("invalid integer \"x\""))
            #expect(error.description == "malformed RESP at byte offset 14: invalid integer \"x\"")
        }
    }

    @Test func errorOffsetsAreTheSameFedByteByByte() {
        // Each malformed input gives the same error whether decoded at once or byte by byte.
        let inputs = [
            "?foo\r\n", "+OK\r\n?foo\r\n", "+OK\rX\r\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcXY", "$536870913\r\n",
            "*2147483648\r\n", String(repeating: "*1\r\n", count: 200), "#x\r\n", ",abc\r\n", "$?\r\n", "_x\r\n",
            "+OK\r\n*3\r\n:1\r\n%1\r\n+a\r\n(1x\r\n", "=5\r\ntxt!a\r\n", "?foo\rX", "+OK\r\n?\r\n",
        ]
        for text in inputs {
            let all = decodeAll(buffer(text))
            let bytes = decodeInPieces(buffer(text), cuts: Array(1..<text.utf8.count))
            #expect(all.error != nil, "\(escaped(buffer(text)))")
            #expect(all.error == bytes.error, "\(escaped(buffer(text)))")
            #expect(all.tokens == bytes.tokens)
        }
    }
}
