import NIOCore
import NIOEmbedded
import RESP
import Testing

@testable import RedisClient

/// The channel handler through a ``RedisConnection`` on `NIOAsyncTestingChannel`: what
/// is written, what each state does with what is read, and how a connection ends.
@Suite struct ChannelHandlerTests {
    static let endpoint = RedisEndpoint.tcp(host: "127.0.0.1", port: 6399)

    /// A connection on a testing channel, with its handler, connected.
    static func connection(maxReplyBytes: Int = .max) async throws -> (RedisConnection, NIOAsyncTestingChannel) {
        let channel = NIOAsyncTestingChannel()
        try await channel.testingEventLoop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                RedisChannelHandler(endpoint: endpoint, commandTimeout: .seconds(30), maxReplyBytes: maxReplyBytes))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6399))
        let connection = try await RedisConnection.wrapping(channel, configuration: RedisConnectionConfiguration(endpoint: endpoint))
        return (connection, channel)
    }

    /// The next bytes the handler wrote, as text.
    static func written(_ channel: NIOAsyncTestingChannel) async throws -> String {
        String(buffer: try await channel.waitForOutboundWrite(as: ByteBuffer.self))
    }

    @Test func replyAndErrorReply() async throws {
        let (connection, channel) = try await Self.connection()
        let get = Task { try await connection.reply(to: ["GET", "k"]) }
        #expect(try await Self.written(channel) == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        try await channel.writeInbound(ByteBuffer(string: "$1\r\nv\r\n"))
        #expect(try await get.value == .bulk("v"))

        let incr = Task { try await connection.send(["INCR", "k"]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "-ERR value is not an integer or out of range\r\n"))
        let error = await #expect(throws: RedisClientError.self) { try await incr.value }
        #expect(error?.kind == .serverError)
        #expect(error?.command == "INCR")
        #expect(error?.endpoint == Self.endpoint)
        #expect(error?.serverMessage == "ERR value is not an integer or out of range")
    }

    @Test func pipelineRepliesArriveInPieces() async throws {
        let (connection, channel) = try await Self.connection()
        let replies = Task { try await connection.pipeline([["SET", "a", "1"], ["GET", "a"], ["DEL", "a"]]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "+OK\r\n$1\r"))
        try await channel.writeInbound(ByteBuffer(string: "\n1\r\n:1\r\n"))
        #expect(try await replies.value == [.simple("OK"), .bulk("1"), .integer(1)])
    }

    @Test func pushWhileAReplyIsPending() async throws {
        let (connection, channel) = try await Self.connection()
        let pushes = await connection.pushes()
        let get = Task { try await connection.reply(to: ["GET", "k"]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "$1\r\nv\r\n"))
        #expect(try await get.value == .bulk("v"))
        var iterator = pushes.makeAsyncIterator()
        #expect(await iterator.next() == .push([.bulk("invalidate"), .array([.bulk("k")])]))
    }

    @Test func submitThenClaimTheReply() async throws {
        let (connection, channel) = try await Self.connection()
        var bytes = ByteBuffer()
        bytes.writeRESPCommand(["BLPOP", "list", "0"])
        let encoded = bytes
        let pending = try await channel.testingEventLoop.executeInContext { connection.submit(encoded: encoded, kind: .blocking) }
        #expect(try await Self.written(channel) == String(buffer: encoded))
        // The reply arrives before anyone waits for it: it is kept for the claim.
        try await channel.writeInbound(ByteBuffer(string: "*2\r\n$4\r\nlist\r\n$1\r\nx\r\n"))
        #expect(try await connection.reply(to: pending) == .array([.bulk("list"), .bulk("x")]))
    }

    @Test func closeWithRequestsInFlight() async throws {
        let (connection, channel) = try await Self.connection()
        let blocked = Task { try await connection.reply(to: ["BLPOP", "list", "0"]) }
        _ = try await Self.written(channel)
        await connection.close()
        let error = await #expect(throws: RedisClientError.self) { try await blocked.value }
        #expect(error?.kind == .connectionClosed)
        #expect(error?.message == "connection to \(Self.endpoint) was closed")
        #expect(error?.command == "BLPOP")
        let later = await #expect(throws: RedisClientError.self) { try await connection.send(["PING"]) }
        #expect(later?.kind == .connectionClosed)
        _ = channel
    }

    @Test func serverClosingFailsTheRequestSayingSo() async throws {
        let (connection, channel) = try await Self.connection()
        let get = Task { try await connection.reply(to: ["GET", "k"]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "$10\r\nabc"))
        try await channel.close()
        let error = await #expect(throws: RedisClientError.self) { try await get.value }
        #expect(error?.message == "connection to \(Self.endpoint) closed by the server while waiting for a reply to GET, after 8 bytes of an incomplete reply")
    }

    @Test func cancellingTheWaitClosesTheConnection() async throws {
        let (connection, channel) = try await Self.connection()
        let blocked = Task { try await connection.reply(to: ["BLPOP", "list", "0"]) }
        _ = try await Self.written(channel)
        blocked.cancel()
        let error = await #expect(throws: RedisClientError.self) { try await blocked.value }
        #expect(error?.kind == .connectionClosed)
        try await channel.closeFuture.get()
        #expect(!connection.isOpen)
    }

    @Test func subscribeStreamsAndTheConsumerMaySendOnTheSameConnection() async throws {
        let (connection, channel) = try await Self.connection()
        let messages = connection.stream(["SUBSCRIBE", "ch"])
        #expect(try await Self.written(channel) == "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n")
        try await channel.writeInbound(ByteBuffer(string: "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"))
        try await channel.writeInbound(ByteBuffer(string: "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nquit\r\n"))
        var received: [RESPValue] = []
        for try await message in messages {
            received.append(message)
            if message.elements?.last == .bulk("quit") {
                // From the consumer, on the same connection: answered with nil at once,
                // its confirmation comes as a message and ends the stream.
                #expect(try await connection.reply(to: ["UNSUBSCRIBE"]) == .null)
                #expect(try await Self.written(channel) == "*1\r\n$11\r\nUNSUBSCRIBE\r\n")
                try await channel.writeInbound(ByteBuffer(string: "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"))
            }
        }
        #expect(received.count == 3)
        // Back to plain requests.
        let ping = Task { try await connection.reply(to: ["PING"]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "+PONG\r\n"))
        #expect(try await ping.value == .simple("PONG"))
    }

    @Test(.timeLimit(.minutes(1))) func aReaderOfMessagesThatStopsClosesTheConnection() async throws {
        let (connection, channel) = try await Self.connection()
        let reader = Task { for try await _ in connection.stream(["MONITOR"]) {} }
        #expect(try await Self.written(channel) == "*1\r\n$7\r\nMONITOR\r\n")
        reader.cancel()
        try await channel.closeFuture.get()
        let later = await #expect(throws: RedisClientError.self) { try await connection.send(["PING"]) }
        #expect(later?.message == "connection to \(Self.endpoint) was closed: its reader of messages stopped")
    }

    @Test func replyLargerThanTheBoundFailsWithItsOffset() async throws {
        let (connection, channel) = try await Self.connection(maxReplyBytes: 64)
        let get = Task { try await connection.reply(to: ["LRANGE", "k", "0", "-1"]) }
        _ = try await Self.written(channel)
        try await channel.writeInbound(ByteBuffer(string: "*2147483647\r\n"))
        for _ in 0..<20 { try await channel.writeInbound(ByteBuffer(string: ":1\r\n")) }
        let error = await #expect(throws: RedisClientError.self) { try await get.value }
        #expect(error?.kind == .protocolError)
        #expect(error?.message == "malformed reply from \(Self.endpoint): malformed RESP at byte offset 64: a message longer than the limit of 64 bytes")
        #expect((error?.underlying as? RESPDecodingError)?.offset == 64)
    }
}
