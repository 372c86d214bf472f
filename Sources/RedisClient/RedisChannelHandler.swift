import NIOCore
import RESP

/// What the connection hands the handler: encoded commands plus their pending entry.
struct OutboundRequest: Sendable {
    let bytes: ByteBuffer
    let pending: PendingRequest
}

/// Matches replies to requests in order on one channel, streams messages (pub/sub,
/// MONITOR, RESP3 pushes) to their consumer, enforces the command timeout, and fails
/// everything pending with one clear error when the connection breaks. What to do in each
/// state is decided by its ``StateMachine``; the handler does the I/O.
///
/// Requests come in through ``send(_:)``, called on the channel's loop, rather than
/// through the pipeline's outbound path: wrapping each request in `NIOAny` boxed and
/// copied it through value witnesses, a visible share of a sequential command's CPU.
///
/// Exclusivity: the one mechanism is `@exclusivity(unchecked)` on the stored properties
/// touched for every reply. The handler runs only on its channel's loop and never reaches
/// a property while an access to it is under way, and Swift's dynamic check on each access
/// to a class's stored property cost four to six checks per reply. The annotation says so
/// where the property is declared, which moving values in and out of the class did not.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let endpoint: RedisEndpoint
    private let commandTimeout: TimeAmount?
    @exclusivity(unchecked) private var machine: StateMachine
    @exclusivity(unchecked) private var decoder: RESPDecoder
    @exclusivity(unchecked) private var buffer: ByteBuffer?
    private var timer: Scheduled<Void>?
    /// Numbers the requests written by ``submit(_:subject:kind:deadline:)``.
    private var lastTicket = 0
    /// Set while the handler is in the channel's pipeline.
    private var context: ChannelHandlerContext?

    init(endpoint: RedisEndpoint, commandTimeout: TimeAmount?, maxReplyBytes: Int = .max) {
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout
        self.machine = StateMachine(endpoint: endpoint)
        self.decoder = RESPDecoder(limits: .init(maxMessageLength: maxReplyBytes))
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    // MARK: Requests (all on the channel's loop)

    /// Queues `request` for its replies and writes its bytes. Once the connection has
    /// failed or closed, the request fails at once with the reason; socket errors later
    /// reach it through errorCaught/channelInactive.
    func send(_ request: OutboundRequest) {
        guard let context else {
            var early: [ReplyQueue.EarlyReply] = []
            request.pending.fail(closedError(request.pending.label), early: &early)
            return
        }
        if let error = machine.enqueue(request.pending) {
            var early: [ReplyQueue.EarlyReply] = []
            request.pending.fail(error, early: &early)
            return
        }
        if timer == nil, let deadline = request.pending.deadline { arm(context, at: deadline) }
        context.writeAndFlush(wrapOutboundOut(request.bytes), promise: nil)
    }

    /// Writes one command now and returns its ticket; ``claim(_:_:)`` waits for its reply.
    /// A `.subscription` command gets no reply (messages answer it): its ticket is
    /// answered with nil at once.
    func submit(_ bytes: ByteBuffer, subject: PendingRequest.Subject, kind: CommandKind, deadline: NIODeadline?) -> Int {
        lastTicket &+= 1
        let ticket = lastTicket
        guard let context else {
            machine.fail(closedError(nil))
            return ticket
        }
        if kind == .subscription {
            if machine.answerNow(ticket: ticket) == nil { context.writeAndFlush(wrapOutboundOut(bytes), promise: nil) }
            return ticket
        }
        // A failed enqueue leaves the ticket unknown: the claim finds the closed state's error.
        guard machine.enqueue(PendingRequest(subject: subject, expected: 1, deadline: deadline,
                                             sink: .unclaimed(ticket: ticket))) == nil else { return ticket }
        if timer == nil, let deadline { arm(context, at: deadline) }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        return ticket
    }

    /// Resumes `continuation` with the reply to the request `ticket`, now or when it comes.
    func claim(_ ticket: Int, _ continuation: ReplyContinuation<RESPValue>) {
        machine.claim(ticket, continuation)
    }

    /// Streams every message from now on to `consumer` (stream `id`), then writes
    /// `bytes` (SUBSCRIBE..., MONITOR). When the connection cannot stream now, the
    /// stream ends at once with the reason.
    func startStreaming(_ bytes: ByteBuffer, kind: StateMachine.Stream.Kind, id: Int,
                        consumer: RedisMessageStream.Continuation) {
        guard let context else {
            consumer.finish(throwing: closedError(nil))
            return
        }
        if let error = machine.startStreaming(.init(kind: kind, id: id, consumer: consumer)) {
            consumer.finish(throwing: error)
            return
        }
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
    }

    /// The consumer of stream `id` stopped reading: messages still on their way would
    /// answer nothing, so the connection is closed.
    func streamEnded(_ id: Int) {
        guard machine.isStreaming(id) else { return }
        fail(RedisClientError(.connectionClosed, "connection to \(endpoint) was closed: its reader of messages stopped",
                              endpoint: endpoint), context: context)
    }

    /// Where RESP3 pushes go outside a stream.
    func setPushConsumer(_ consumer: AsyncStream<RESPValue>.Continuation?) {
        machine.pushConsumer?.finish()
        machine.pushConsumer = consumer
    }

    /// ``RedisConnection/close()``: new requests fail; those in flight fail once closed.
    func closeRequested() {
        machine.closeRequested()
    }

    /// Why the handler, out of the pipeline, takes no request: the error that closed the
    /// connection, if any.
    private func closedError(_ label: String?) -> RedisClientError {
        if let failure = machine.failure { return failure }
        return RedisClientError(.connectionClosed, "connection to \(endpoint) is closed" + (label.map { "; cannot send \($0)" } ?? ""),
                         endpoint: endpoint, command: label)
    }

    // MARK: Replies

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        var stray: RESPValue?
        var decodingError: (any Error)?
        machine.receiving { route in
            do {
                try decoder.decodeAll(&buffer!) { token in
                    if case .unexpected(let value) = route(token) {
                        stray = value
                        throw StopReading()
                    }
                }
            } catch is StopReading {
            } catch {
                decodingError = error
            }
        }
        if let stray {
            fail(RedisClientError(.protocolError, "\(endpoint) sent a reply nobody asked for: \(stray.summary)", endpoint: endpoint),
                 context: context)
            return
        }
        if let decodingError {
            fail(RedisClientError(.protocolError, "malformed reply from \(endpoint): \(decodingError)",
                                  endpoint: endpoint, command: machine.head?.label, underlying: decodingError),
                 context: context)
            return
        }
        if buffer!.readerIndex > 64 * 1024 { buffer!.discardReadBytes() }
    }

    /// Thrown from the decoding loop once the connection is out of step.
    private struct StopReading: Error {}

    // MARK: Timeout

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context)
        }
    }

    /// One timer per connection, re-armed for the oldest request, rather than one per
    /// command. While a blocking command (no deadline) is the oldest, the timer looks again
    /// one command timeout later: requests written behind it still have theirs.
    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard let head = machine.head else { return }
        guard let deadline = head.deadline else {
            if let commandTimeout { arm(context, at: .now() + commandTimeout) }
            return
        }
        if deadline <= .now() {
            let waited = commandTimeout.map { Self.format($0) } ?? "the timeout"
            fail(RedisClientError(.timeout, "no reply from \(endpoint) to \(head.label) within \(waited); connection closed",
                                  endpoint: endpoint, command: head.label),
                 context: context)
        } else {
            arm(context, at: deadline)
        }
    }

    // MARK: Failure

    func channelInactive(context: ChannelHandlerContext) {
        let reason: String
        let head = machine.head
        if machine.isClosing {
            reason = "connection to \(endpoint) was closed"
        } else if let head {
            let partial = decoder.bytesOfIncompleteMessage + (buffer?.readableBytes ?? 0) > 0
                ? ", after \(buffer?.readableBytes ?? 0) bytes of an incomplete reply" : ""
            reason = "connection to \(endpoint) closed by the server while waiting for a reply to \(head.label)\(partial)"
        } else {
            reason = "connection to \(endpoint) closed by the server"
        }
        fail(RedisClientError(.connectionClosed, reason, endpoint: endpoint, command: head?.label), context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let head = machine.head
        let what = head.map { " while waiting for a reply to \($0.label)" } ?? ""
        fail(RedisClientError(.connectionClosed, "connection to \(endpoint) failed\(what): \(describeIOError(error))",
                              endpoint: endpoint, command: head?.label, underlying: error),
             context: context)
    }

    /// Fails every pending request and every later one with `error`, then closes.
    private func fail(_ error: RedisClientError, context: ChannelHandlerContext?) {
        timer?.cancel()
        timer = nil
        machine.fail(error)
        context?.close(promise: nil)
    }

    static func format(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
