import NIOCore
import RESP

extension RedisConnection {
    /// Sends SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE or MONITOR (already encoded) and returns
    /// every message that arrives from then on, in order: the subscription confirmations
    /// and messages (RESP2 arrays or RESP3 pushes), or MONITOR's `OK` and lines.
    ///
    /// The stream ends when the last subscription is dropped (an UNSUBSCRIBE sent on this
    /// connection, from the consumer if it likes: messages are buffered, never delivered
    /// by a callback into the connection), and fails when the connection closes. A
    /// consumer that stops reading (its task cancelled) closes the connection: messages on
    /// their way would otherwise answer nothing. Replies to other commands sent meanwhile
    /// (PING) still go to their callers.
    public func stream(encoded bytes: ByteBuffer, kind: CommandKind) -> RedisMessageStream {
        let (stream, consumer) = RedisMessageStream.makeStream()
        let handler = self.handler
        let streamKind: RedisChannelHandler.StateMachine.Stream.Kind = kind == .monitor ? .monitor : .pubsub
        let id = streamIDs.wrappingAdd(1, ordering: .relaxed).newValue
        // Set before the stream starts, so a consumer that stops at once is seen: its
        // termination reaches the loop after the start, in order.
        consumer.onTermination = { _ in
            handler.eventLoop.execute { handler.value.streamEnded(id) }
        }
        let start: @Sendable () -> Void = {
            handler.value.startStreaming(bytes, kind: streamKind, id: id, consumer: consumer)
        }
        if handler.eventLoop.inEventLoop { start() } else { handler.eventLoop.execute(start) }
        return stream
    }

    /// ``stream(encoded:kind:)`` for a ``RESP/RESPCommand``.
    public func stream(_ command: RESPCommand) -> RedisMessageStream {
        var bytes = channel.allocator.buffer(capacity: 64)
        bytes.writeRESPCommand(command)
        return stream(encoded: bytes, kind: CommandKind(command))
    }

    /// RESP3 push messages that arrive outside a stream (client-side caching
    /// invalidations, confirmations of UNSUBSCRIBE sent with no subscription), in order.
    /// One consumer at a time: a new call ends the previous stream.
    public func pushes() async -> AsyncStream<RESPValue> {
        let (stream, consumer) = AsyncStream<RESPValue>.makeStream()
        let handler = self.handler
        try? await eventLoop.submit { handler.value.setPushConsumer(consumer) }.get()
        return stream
    }
}
