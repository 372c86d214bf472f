import NIOCore
import Testing

@testable import RESP

/// Incremental decoding: byte-by-byte feeding, pipelined replies, large replies in pieces,
/// and the bookkeeping (`consumedBytes`, `bytesOfIncompleteMessage`, `startOffset`).
@Suite struct RESPDecoderStreamingTests {
    /// Messages of every kind, some nested, some binary.
    static let mixedMessages: [[UInt8]] = {
        var texts = [
            "+OK\r\n", "-ERR unknown command 'foo'\r\n", ":0\r\n", ":-42\r\n", ":9223372036854775807\r\n",
            "$5\r\nhello\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n", "_\r\n", "#t\r\n", "#f\r\n",
            ",3.14\r\n", ",inf\r\n", ",-inf\r\n", ",-1.5e-7\r\n",
            "(3492890328409238509324850943850943825024385\r\n",
            "!21\r\nSYNTAX invalid syntax\r\n", "=15\r\ntxt:Some string\r\n",
            "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "~3\r\n+a\r\n+b\r\n+c\r\n",
            ">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n",
            "|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n",
            "*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n",
            "*3\r\n$-1\r\n*0\r\n%1\r\n~1\r\n_\r\n>1\r\n|0\r\n#t\r\n",
            String(repeating: "*1\r\n", count: 40) + "$3\r\nend\r\n",
            "$\(3000)\r\n" + String(repeating: "0123456789", count: 300) + "\r\n",
            "+" + String(repeating: "s", count: 2000) + "\r\n",
        ]
        texts += texts.reversed()
        var messages = texts.map { Array($0.utf8) }
        // Binary bulk strings full of CR, LF and NUL.
        let body: [UInt8] = [0x0D, 0x0A, 0x00, 0x0D, 0x0D, 0x0A, 0x0A, 0x00, 0x24, 0x2A]
        messages.insert(Array("$10\r\n".utf8) + body + [0x0D, 0x0A], at: 3)
        messages.append(Array("*2\r\n$10\r\n".utf8) + body + Array("\r\n!10\r\n".utf8) + body + [0x0D, 0x0A])
        return messages
    }()

    @Test func byteByByteMatchesAllAtOnce() throws {
        let all = Self.mixedMessages.flatMap { $0 }
        let whole = decodeAll(buffer(all))
        #expect(whole.error == nil)
        #expect(whole.leftover == 0)
        #expect(whole.tokens.count == Self.mixedMessages.count)
        #expect(whole.tokens.map { bytesOf($0.bytes) } == Self.mixedMessages)

        // The offsets at which each message ends.
        var ends: [Int] = []
        var total = 0
        for m in Self.mixedMessages {
            total += m.count
            ends.append(total)
        }

        var decoder = RESPDecoder()
        var buf = ByteBuffer()
        var tokens: [RESPToken] = []
        for (i, byte) in all.enumerated() {
            buf.writeInteger(byte)
            let before = tokens.count
            while let token = try decoder.decode(&buf) { tokens.append(token) }
            let fed = i + 1
            // A token comes out exactly when the last byte of a message arrives, never earlier.
            let expectedCount = ends.prefix { $0 <= fed }.count
            #expect(tokens.count == expectedCount, "after \(fed) bytes")
            if tokens.count > before {
                #expect(tokens.count == before + 1)
                #expect(fed == ends[tokens.count - 1])
            }
            // consumedBytes is the end of the last complete message; the buffer keeps the rest.
            let consumed = tokens.isEmpty ? 0 : ends[tokens.count - 1]
            #expect(decoder.consumedBytes == consumed)
            #expect(buf.readableBytes == fed - consumed)
            #expect(decoder.bytesOfIncompleteMessage <= buf.readableBytes)
            if tokens.count != expectedCount { break }
        }
        #expect(tokens.count == whole.tokens.count)
        #expect(tokens == whole.tokens)
        for (a, b) in zip(tokens, whole.tokens) {
            #expect(equivalent(a.value, b.value))
        }
        #expect(decoder.consumedBytes == all.count)
    }

    @Test func randomPiecesMatchAllAtOnce() {
        let all = Self.mixedMessages.flatMap { $0 }
        let whole = decodeAll(buffer(all))
        var rng = SplitMix64(seed: 0xC0FFEE)
        for round in 0..<50 {
            var cuts: [Int] = []
            var at = 0
            while true {
                at += 1 + rng.below(round < 25 ? 8 : 300)
                if at >= all.count { break }
                cuts.append(at)
            }
            let pieces = decodeInPieces(buffer(all), cuts: cuts)
            #expect(pieces.error == nil, "round \(round)")
            #expect(pieces.tokens == whole.tokens, "round \(round), cuts \(cuts)")
            #expect(pieces.consumedBytes == all.count)
        }
    }

    @Test func tenThousandPipelinedReplies() throws {
        var buf = ByteBuffer()
        var expected: [RESPValue] = []
        for i in 0..<10_000 {
            let v: RESPValue
            switch i % 5 {
            case 0: v = .simple("OK")
            case 1: v = .integer(Int64(i))
            case 2: v = .bulk("value-\(i)")
            case 3: v = .array([.bulk("k\(i)"), .integer(Int64(-i))])
            default: v = .null
            }
            expected.append(v)
            buf.writeRESPValue(v)
        }
        let total = buf.readableBytes
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        while let token = try decoder.decode(&buf) { values.append(token.value) }
        #expect(values.count == 10_000)
        #expect(values == expected)
        #expect(decoder.consumedBytes == total)
        #expect(buf.readableBytes == 0)
    }

    @Test func largeArrayInFourKilobytePieces() throws {
        let count = 100_000
        var stream = ByteBuffer()
        stream.writeString("*\(count)\r\n")
        for i in 0..<count {
            let s = String(i % 1000)
            stream.writeString("$\(s.utf8.count)\r\n\(s)\r\n")
        }
        stream.writeString("+after\r\n")
        let total = stream.readableBytes

        var decoder = RESPDecoder()
        var buf = ByteBuffer()
        var tokens: [RESPToken] = []
        var calls = 0
        while stream.readableBytes > 0 {
            var piece = stream.readSlice(length: min(4096, stream.readableBytes))!
            buf.writeBuffer(&piece)
            calls += 1
            while let token = try decoder.decode(&buf) { tokens.append(token) }
            if tokens.isEmpty {
                // While the array is incomplete nothing is consumed, but the decoder has
                // validated nearly everything it holds (all but a partial last element).
                #expect(decoder.consumedBytes == 0)
                #expect(decoder.bytesOfIncompleteMessage > buf.readableBytes - 20)
            }
            buf.discardReadBytes()  // allowed between calls
        }
        #expect(calls == (total + 4095) / 4096)
        #expect(tokens.count == 2)
        #expect(decoder.consumedBytes == total)
        guard tokens.count == 2 else { return }
        guard case .array(let elements) = tokens[0].value else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == count)
        var mismatches = 0
        for (i, e) in elements.enumerated() where e != .bulk(String(i % 1000)) { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(tokens[1].value == .simple("after"))
    }

    @Test func incompleteMessagesReturnNilAndResume() throws {
        var decoder = RESPDecoder()
        var buf = ByteBuffer()
        buf.writeString("*3\r\n:1\r\n:2")
        #expect(try decoder.decode(&buf) == nil)
        #expect(decoder.consumedBytes == 0)
        #expect(buf.readableBytes == 10)  // nothing consumed
        #expect(decoder.bytesOfIncompleteMessage == 8)  // "*3\r\n:1\r\n" validated
        buf.writeString("\r\n$3\r\nab")
        #expect(try decoder.decode(&buf) == nil)
        #expect(decoder.bytesOfIncompleteMessage == 12)
        #expect(try decoder.decode(&buf) == nil)  // asking again without new bytes is harmless
        buf.writeString("c\r\n+next")
        let token = try #require(try decoder.decode(&buf))
        #expect(token.value == .array([.integer(1), .integer(2), .bulk("abc")]))
        #expect(decoder.consumedBytes == 21)
        #expect(decoder.bytesOfIncompleteMessage == 0)
        #expect(try decoder.decode(&buf) == nil)
        buf.writeString("\r\n")
        #expect(try decoder.decode(&buf)?.value == .simple("next"))
        #expect(decoder.consumedBytes == 28)
        #expect(try decoder.decode(&buf) == nil)
        #expect(buf.readableBytes == 0)
    }

    @Test func emptyBufferReturnsNil() throws {
        var decoder = RESPDecoder()
        var buf = ByteBuffer()
        #expect(try decoder.decode(&buf) == nil)
        #expect(decoder.consumedBytes == 0)
    }

    @Test func everyProperPrefixIsIncomplete() throws {
        // For each message, every proper prefix gives nil (never an error, never a token).
        for message in Self.mixedMessages {
            for length in 0..<message.count {
                var decoder = RESPDecoder()
                var buf = buffer(Array(message[..<length]))
                do {
                    let token = try decoder.decode(&buf)
                    #expect(token == nil, "prefix of \(length) bytes of \(escaped(message))")
                } catch {
                    Issue.record("\(error) for a prefix of \(length) bytes of \(escaped(message))")
                }
            }
        }
    }

    @Test func startOffsetShiftsErrorOffsets() throws {
        var decoder = RESPDecoder(startOffset: 1000)
        #expect(decoder.consumedBytes == 1000)
        var buf = buffer("+OK\r\n:1x\r\n")
        #expect(try decoder.decode(&buf)?.value == .simple("OK"))
        #expect(decoder.consumedBytes == 1005)
        do {
            _ = try decoder.decode(&buf)
            Issue.record("no error")
        } catch {
            #expect(error.offset == 1006)
        }
    }
}
