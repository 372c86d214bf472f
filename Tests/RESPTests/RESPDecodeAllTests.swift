import NIOCore
import Testing

@testable import RESP

/// The batch API: every complete message in one pass, the same results as decode().
@Suite struct RESPDecodeAllTests {
    static let stream = "+OK\r\n:42\r\n$5\r\nhello\r\n*2\r\n$1\r\na\r\n%1\r\n+k\r\n:1\r\n_\r\n"

    @Test func deliversEveryCompleteMessageInOrder() throws {
        var decoder = RESPDecoder()
        var input = buffer(Self.stream + "*3\r\n$1\r\nx\r\n")  // a last, incomplete array
        var values: [RESPValue] = []
        let count = try decoder.decodeAll(&input) { values.append($0.value) }
        #expect(count == 5)
        #expect(values == [.simple("OK"), .integer(42), .bulk("hello"),
                           .array([.bulk("a"), .map([RESPPair(key: .simple("k"), value: .integer(1))])]), .null])
        #expect(input.readableBytes == "*3\r\n$1\r\nx\r\n".utf8.count)
        #expect(decoder.consumedBytes == Self.stream.utf8.count)
        #expect(decoder.bytesOfIncompleteMessage == "*3\r\n$1\r\nx\r\n".utf8.count)
        // The rest arrives; the array completes without rescanning from scratch.
        input.writeString("$1\r\ny\r\n$1\r\nz\r\n")
        let rest = try decoder.decodeAll(&input) { values.append($0.value) }
        #expect(rest == 1)
        #expect(values.last == .array([.bulk("x"), .bulk("y"), .bulk("z")]))
        #expect(input.readableBytes == 0)
    }

    @Test func byteByByteMatchesDecode() {
        let input = buffer(Self.stream + Self.stream)
        let cuts = Array(1..<input.readableBytes)
        let batch = batchDecode(input, cuts: cuts)
        let single = decodeInPieces(input, cuts: cuts)
        #expect(batch.tokens == single.tokens)
        #expect(batch.tokens.count == 10)
        #expect(batch.consumedBytes == input.readableBytes)
    }

    @Test func malformedInputGivesTheSameOffsetAfterDeliveringWhatCameBefore() throws {
        var decoder = RESPDecoder()
        var input = buffer("+OK\r\n:1\r\n:x\r\n")
        var seen = 0
        let error = #expect(throws: RESPDecodingError.self) {
            try decoder.decodeAll(&input) { _ in seen += 1 }
        }
        #expect(seen == 2)
        #expect(error?.offset == 10)
        #expect(error == decodingError(buffer("+OK\r\n:1\r\n:x\r\n")))
    }

    @Test func aThrowingBodyLeavesItsMessageUnconsumed() throws {
        struct Stop: Error {}
        var decoder = RESPDecoder()
        var input = buffer(":1\r\n:2\r\n:3\r\n")
        var seen: [RESPValue] = []
        #expect(throws: Stop.self) {
            try decoder.decodeAll(&input) { token in
                if token.value == .integer(2) { throw Stop() }
                seen.append(token.value)
            }
        }
        #expect(seen == [.integer(1)])
        #expect(decoder.consumedBytes == 4)
        // :2 is still there and decodes next.
        #expect(try decoder.decode(&input)?.value == .integer(2))
        #expect(try decoder.decode(&input)?.value == .integer(3))
    }

    @Test func tokensOutliveTheBufferTheyCameFrom() throws {
        var decoder = RESPDecoder()
        var tokens: [RESPToken] = []
        do {
            var input = buffer("$3\r\nabc\r\n*1\r\n:7\r\n")
            try decoder.decodeAll(&input) { tokens.append($0) }
            input.clear()
            input.writeString("garbage that overwrites the storage")
        }
        #expect(tokens.map(\.value) == [.bulk("abc"), .array([.integer(7)])])
        #expect(tokens.map(\.length) == [9, 8])
        #expect(bytesOf(tokens[0].bytes) == Array("$3\r\nabc\r\n".utf8))
    }
}
