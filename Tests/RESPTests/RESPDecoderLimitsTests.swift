import NIOCore
import Testing

@testable import RESP

/// `RESPDecoder.Limits`: defaults, exact boundaries, and limits so large they mean
/// "unlimited" (which must not overflow the decoder's arithmetic).
@Suite struct RESPDecoderLimitsTests {
    @Test func limitsAreKept() {
        let limits = RESPDecoder.Limits(maxDepth: 3, maxBulkLength: 10, maxAggregateCount: 5, maxLineLength: 7)
        let decoder = RESPDecoder(limits: limits)
        #expect(decoder.limits == limits)
        #expect(RESPDecoder().limits == .default)
        #expect(RESPDecoder.Limits.default.maxDepth == 128)
        #expect(RESPDecoder.Limits.default.maxBulkLength == 512 * 1024 * 1024)
        #expect(RESPDecoder.Limits.default.maxAggregateCount == Int(Int32.max))
        #expect(RESPDecoder.Limits.default.maxLineLength == 1024 * 1024)
    }

    @Test func exactLimitsAreAccepted() {
        let limits = RESPDecoder.Limits(maxDepth: 2, maxBulkLength: 5, maxAggregateCount: 3, maxLineLength: 4)
        let run = decodeAll(buffer("$5\r\nhello\r\n*3\r\n*1\r\n:1\r\n:2\r\n:3\r\n+abcd\r\n%3\r\n:1\r\n:1\r\n:2\r\n:2\r\n:3\r\n:3\r\n"),
                            limits: limits)
        #expect(run.error == nil)
        #expect(run.tokens.map(\.value) == [
            .bulk("hello"), .array([.array([.integer(1)]), .integer(2), .integer(3)]), .simple("abcd"),
            .map([RESPPair(key: 1, value: 1), RESPPair(key: 2, value: 2), RESPPair(key: 3, value: 3)]),
        ])
    }
    // MARK: Limits so large they mean "no limit"

    @Test func unlimitedLineLength() {
        for max in [Int.max, Int.max - 1, Int.max / 2] {
            let limits = RESPDecoder.Limits(maxLineLength: max)
            let run = decodeAll(buffer("+OK\r\n-ERR x\r\n,1.5\r\n(12\r\n:7\r\n+partial"), limits: limits)
            #expect(run.error == nil, "maxLineLength \(max)")
            #expect(run.tokens.map(\.value) == [.simple("OK"), .error("ERR x"), .double(1.5), .bigNumber("12"), .integer(7)],
                    "maxLineLength \(max)")
            #expect(run.leftover == 8)
        }
    }

    @Test func unlimitedBulkLength() {
        let limits = RESPDecoder.Limits(maxBulkLength: .max)
        // A huge declared length is merely incomplete: no crash, no allocation.
        for header in ["$9223372036854775807", "$9223372036854775800", "!9223372036854775807", "=9223372036854775807"] {
            let run = decodeAll(buffer(header + "\r\nabc\r\n"), limits: limits)
            #expect(run.error == nil, "\(header)")
            #expect(run.tokens.isEmpty, "\(header)")
        }
        let run = decodeAll(buffer("$5\r\nhello\r\n"), limits: limits)
        #expect(run.tokens.first?.value == .bulk("hello"))
    }

    @Test func unlimitedAggregateCountMapsAndAttributes() {
        // With maxAggregateCount = Int.max, a map or attribute header whose element count
        // (2n, or 2n + 1) overflows Int must not be taken for a complete, empty aggregate:
        // materializing such a token crashes. Only the decode is checked here, never `.value`.
        let limits = RESPDecoder.Limits(maxAggregateCount: .max)
        for header in ["%4611686018427387904", "%9223372036854775807", "|4611686018427387904", "|9223372036854775807"] {
            let run = decodeAll(buffer(header + "\r\n:1\r\n"), limits: limits)
            #expect(run.tokens.isEmpty, "\(header) gave \(run.tokens.map { escaped($0.bytes) })")
        }
        // Counts that do not overflow are fine.
        let run = decodeAll(buffer("*9223372036854775807\r\n:1\r\n%4611686018427387903\r\n"), limits: limits)
        #expect(run.error == nil && run.tokens.isEmpty)
    }
}
