import NIOCore
import Testing

@testable import RESP

/// `RESPDecoder.Limits.maxMessageLength`: an incomplete message may not buffer more than
/// the limit, whichever way it grows (elements of a huge aggregate, one long bulk string).
@Suite struct RESPDecoderMessageLengthTests {
    @Test func aggregateThatNeverEndsStopsAtTheLimit() {
        var decoder = RESPDecoder(limits: .init(maxMessageLength: 32))
        var bytes = ByteBuffer(string: "+OK\r\n*2147483647\r\n")
        #expect(throws: Never.self) { _ = try decoder.decode(&bytes) }
        var thrown: RESPDecodingError?
        for _ in 0..<20 {
            bytes.writeString(":1\r\n")
            do { _ = try decoder.decode(&bytes) } catch { thrown = error; break }
        }
        // The limit counts from the message's first byte, after the 5 bytes of +OK.
        #expect(thrown == RESPDecodingError(offset: 5 + 32, reason: "a message longer than the limit of 32 bytes"))
    }

    @Test func longBulkStringStopsAtTheLimitAndExactSizesPass() throws {
        var exact = RESPDecoder(limits: .init(maxMessageLength: 11))
        var fits = ByteBuffer(string: "$5\r\nhello\r\n")
        #expect(try exact.decode(&fits)?.value == .bulk("hello"))

        var decoder = RESPDecoder(limits: .init(maxMessageLength: 16))
        var bytes = ByteBuffer(string: "$100\r\n" + String(repeating: "x", count: 20))
        let error = #expect(throws: RESPDecodingError.self) { try decoder.decodeAll(&bytes) { _ in } }
        #expect(error?.offset == 16)
    }
}
