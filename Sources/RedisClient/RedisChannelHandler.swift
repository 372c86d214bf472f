import NIOCore
import RESP

/// Replies a request is waiting for, and where to deliver them.
struct PendingRequest {
    // Unsafe continuations: a checked one allocates a canary per command, and the
    // ReplyQueue removes a request before resuming it, so each is resumed exactly once.
    enum Sink {
        case one(UnsafeContinuation<RESPValue, any Error>)
        case many(UnsafeContinuation<[RESPValue], any Error>)
        /// Only the error replies are looked at (see ``RedisConnection/pipelineCountingErrors(encoded:count:)``).
        case counting(UnsafeContinuation<PipelineErrorCount, any Error>)
    }

    /// What was sent, for error messages: a command's first word (never its arguments)
    /// or a pipeline's size. The text is made only when an error needs it.
    enum Subject {
        case command(RESPArgument)
        /// A command sent already encoded: its name is read back from the bytes.
        case encoded(ByteBuffer)
        case pipeline(count: Int)
    }

    let subject: Subject
    /// How many replies complete this request.
    let expected: Int
    /// When the first reply is overdue; nil waits forever.
    let deadline: NIODeadline?
    let sink: Sink

    /// The command's name or "a pipeline of N commands".
    var label: String {
        switch subject {
        case .command(let word): RESPCommand([word]).name
        case .encoded(var bytes):
            Self.name(decoding: &bytes)
        case .pipeline(let count): "a pipeline of \(count) commands"
        }
    }

    /// The upper-cased name of the command encoded in `bytes`.
    private static func name(decoding bytes: inout ByteBuffer) -> String {
        var decoder = RESPDecoder()
        guard case .array(let words)? = try? decoder.decode(&bytes)?.value, let name = words.first?.string else { return "a command" }
        return name.uppercased()
    }

    func fail(_ error: RedisClientError) {
        switch sink {
        case .one(let c): c.resume(throwing: error)
        case .many(let c): c.resume(throwing: error)
        case .counting(let c): c.resume(throwing: error)
        }
    }
}

/// Requests waiting for replies, in order, and the replies collected for the first one.
///
/// A value type on purpose: `channelRead` moves it out of the handler, delivers a whole
/// read's replies to the local copy, and moves it back. Touching a class's stored
/// properties once per reply costs a dynamic exclusivity check each time.
struct ReplyQueue {
    var waiting = CircularBuffer<PendingRequest>(initialCapacity: 16)
    /// Replies so far for the request at the head (pipelines).
    var collected: [RESPValue] = []
    /// Replies so far, and the errors among them, for a counting request at the head.
    var countedReplies = 0
    var counted = PipelineErrorCount()
    /// The head request's reply count and kind, read once per request: reading the head
    /// out of the buffer copies it (retains included), which showed per reply in profiles.
    private var head: (expected: Int, counting: Bool)?

    enum Delivery {
        case delivered
        /// A reply arrived with no request waiting for it.
        case unexpected
    }

    /// Hands the reply `token` to the request at the head. A counting request only looks
    /// at error replies; the others get the reply as a value.
    mutating func deliver(_ token: RESPToken) -> Delivery {
        guard !waiting.isEmpty else { return .unexpected }
        let head = self.head ?? readHead()
        guard head.counting else { return deliver(token.value) }
        if token.isError {
            if counted.firstErrors.count < PipelineErrorCount.kept {
                counted.firstErrors.append(.init(index: countedReplies, message: token.value.errorMessage ?? ""))
            }
            counted.errors += 1
        }
        countedReplies += 1
        if countedReplies == head.expected {
            let done = waiting.removeFirst()
            self.head = nil
            let result = counted
            counted = PipelineErrorCount()
            countedReplies = 0
            if case .counting(let c) = done.sink { c.resume(returning: result) }
        }
        return .delivered
    }

    /// Notes the head request's reply count and kind (see ``head``).
    private mutating func readHead() -> (expected: Int, counting: Bool) {
        let request = waiting[waiting.startIndex]
        var counting = false
        if case .counting = request.sink { counting = true }
        head = (request.expected, counting)
        return head!
    }

    /// Hands `value` to the request at the head, resuming it once all its replies are in.
    mutating func deliver(_ value: RESPValue) -> Delivery {
        guard !waiting.isEmpty else { return .unexpected }
        let expected = (self.head ?? readHead()).expected
        if expected == 1 {
            let done = waiting.removeFirst()
            head = nil
            switch done.sink {
            case .one(let c): c.resume(returning: value)
            case .many(let c): c.resume(returning: [value])
            case .counting: preconditionFailure("counting requests are answered by deliver(_: RESPToken)")
            }
            return .delivered
        }
        if collected.isEmpty { collected.reserveCapacity(expected) }
        collected.append(value)
        if collected.count == expected {
            let done = waiting.removeFirst()
            head = nil
            let replies = collected
            collected = []
            if case .many(let c) = done.sink { c.resume(returning: replies) }
        }
        return .delivered
    }

    /// Fails every waiting request.
    mutating func failAll(_ error: RedisClientError) {
        collected = []
        countedReplies = 0
        counted = PipelineErrorCount()
        head = nil
        while let pending = waiting.popFirst() { pending.fail(error) }
    }
}

/// What the connection hands the handler: encoded commands plus their pending entry.
struct OutboundRequest: @unchecked Sendable {
    // @unchecked: ByteBuffer and the continuation are Sendable; the pending entry is only
    // touched on the event loop once sent.
    let bytes: ByteBuffer
    let pending: PendingRequest
}

/// Matches replies to requests in order on one channel, enforces the command timeout,
/// and fails everything pending with one clear error when the connection breaks.
///
/// Requests come in through ``send(_:)``, called on the channel's loop, rather than
/// through the pipeline's outbound path: wrapping each request in `NIOAny` boxed and
/// copied it through value witnesses, a visible share of a sequential command's CPU.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let endpoint: RedisEndpoint
    private let commandTimeout: TimeAmount?
    // The handler only runs on its channel's loop and never reaches these while an access
    // to them is under way, so the dynamic exclusivity check Swift makes on each access to
    // a class's stored property is left out: there were four to six per reply.
    @exclusivity(unchecked) private var decoder = RESPDecoder()
    @exclusivity(unchecked) private var buffer: ByteBuffer?
    /// Nil only while `channelRead` works on it (see there).
    @exclusivity(unchecked) private var queue: ReplyQueue? = ReplyQueue()
    private var timer: Scheduled<Void>?
    /// Set once the connection is unusable; later requests fail with it at once.
    private var failure: RedisClientError?
    /// Set by ``RedisConnection/close()`` so the close is not reported as the server's doing.
    var closingOnPurpose = false
    /// Receives RESP3 push messages, which answer no request.
    var onPush: (@Sendable (RESPValue) -> Void)?

    init(endpoint: RedisEndpoint, commandTimeout: Duration?) {
        self.endpoint = endpoint
        self.commandTimeout = commandTimeout.map { TimeAmount.nanoseconds(Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) }
    }

    /// Set while the handler is in the channel's pipeline.
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Queues `request` for its replies and writes its bytes. Call on the channel's loop.
    /// Once the connection has failed or closed, the request fails at once with the reason;
    /// socket errors later reach it through errorCaught/channelInactive.
    func send(_ request: OutboundRequest) {
        if let failure {
            request.pending.fail(failure)
            return
        }
        guard let context else {
            request.pending.fail(RedisClientError(.connectionClosed,
                "connection to \(endpoint) is closed; cannot send \(request.pending.label)"))
            return
        }
        queue!.waiting.append(request.pending)
        if timer == nil, let deadline = request.pending.deadline { arm(context, at: deadline) }
        context.writeAndFlush(wrapOutboundOut(request.bytes), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        // Work on a local queue for the whole read (see ReplyQueue), then put it back.
        // Taking it out leaves nil, not a fresh ReplyQueue: that would allocate a new
        // buffer on every read (measured: ~1.5% of a sequential SET's CPU time).
        var replies = queue!
        queue = nil
        var stray: RESPValue?
        let onPush = self.onPush
        var decodingError: (any Error)?
        do {
            try decoder.decodeAll(&buffer!) { token in
                if token.typeByte == UInt8(ascii: ">") {
                    // RESP3 pushes answer no request; nobody listening means they are dropped.
                    onPush?(token.value)
                    return
                }
                if case .unexpected = replies.deliver(token) {
                    stray = token.value
                    throw StopReading()
                }
            }
        } catch is StopReading {
        } catch {
            decodingError = error
        }
        queue = replies
        if let stray {
            fail(RedisClientError(.protocolError, "\(endpoint) sent a reply nobody asked for: \(stray.summary)"), context: context)
            return
        }
        if let decodingError {
            fail(RedisClientError(.protocolError, "malformed reply from \(endpoint): \(decodingError)"), context: context)
            return
        }
        if buffer!.readerIndex > 64 * 1024 { buffer!.discardReadBytes() }
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.timerFired(context)
        }
    }

    /// One timer per connection, re-armed for the oldest request, rather than one per command.
    private func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard let head = queue!.waiting.first, let deadline = head.deadline else { return }
        if deadline <= .now() {
            let waited = commandTimeout.map { Self.format($0) } ?? "the timeout"
            fail(RedisClientError(.timeout, "no reply from \(endpoint) to \(head.label) within \(waited); connection closed"),
                 context: context)
        } else {
            arm(context, at: deadline)
        }
    }

    /// Thrown from the decoding loop once the connection has failed.
    private struct StopReading: Error {}

    func channelInactive(context: ChannelHandlerContext) {
        let reason: String
        if closingOnPurpose {
            reason = "connection to \(endpoint) was closed"
        } else if let head = queue!.waiting.first {
            let partial = decoder.bytesOfIncompleteMessage + (buffer?.readableBytes ?? 0) > 0
                ? ", after \(buffer?.readableBytes ?? 0) bytes of an incomplete reply" : ""
            reason = "connection to \(endpoint) closed by the server while waiting for a reply to \(head.label)\(partial)"
        } else {
            reason = "connection to \(endpoint) closed by the server"
        }
        fail(RedisClientError(.connectionClosed, reason), context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let what = queue!.waiting.first.map { " while waiting for a reply to \($0.label)" } ?? ""
        fail(RedisClientError(.connectionClosed, "connection to \(endpoint) failed\(what): \(describeIOError(error))"),
             context: context)
    }

    /// Fails every pending request and every later one with `error`, then closes.
    private func fail(_ error: RedisClientError, context: ChannelHandlerContext?) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        queue!.failAll(failure!)
        context?.close(promise: nil)
    }

    static func format(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
