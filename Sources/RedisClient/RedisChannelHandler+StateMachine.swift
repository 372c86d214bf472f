import NIOCore
import RESP

/// What arrives on a connection that streams (SUBSCRIBE, MONITOR): every message, in order.
public typealias RedisMessageStream = AsyncThrowingStream<RESPValue, any Error>

extension RedisChannelHandler {
    /// The connection's states, and what each does with a request, a reply and a failure.
    /// No I/O here: the handler writes, closes and arms timers; this decides.
    ///
    /// ```
    /// active ──stream()──▶ streaming ──last unsubscribe──▶ active
    ///   │                     │
    ///   └──close()──▶ closing ┴──inactive / error / timeout──▶ closed(error)
    /// ```
    struct StateMachine {
        enum State {
            /// Replies are matched to requests in order. RESP3 pushes, and pub/sub
            /// confirmations nobody asked for, go to the push consumer if there is one.
            case active(ReplyQueue)
            /// After SUBSCRIBE... or MONITOR: messages go to the stream's consumer; other
            /// replies still answer the requests waiting for them.
            case streaming(ReplyQueue, Stream)
            /// ``RedisConnection/close()`` was called: no new request; those in flight
            /// fail with "connection ... was closed" once the channel is inactive.
            case closing(ReplyQueue)
            /// Unusable; every later request fails with this error at once.
            case closed(RedisClientError)
            /// Only while a method works on the queue it moved out (so that it is not copied).
            case modifying
        }

        /// A consumer of messages: what it streams, and where they go.
        struct Stream {
            enum Kind { case pubsub, monitor }
            let kind: Kind
            let id: Int
            let consumer: RedisMessageStream.Continuation
        }

        private(set) var state: State = .active(ReplyQueue())
        /// Where RESP3 pushes go outside a stream (``RedisConnection/pushes()``); nil drops them.
        var pushConsumer: AsyncStream<RESPValue>.Continuation?
        let endpoint: RedisEndpoint

        init(endpoint: RedisEndpoint) { self.endpoint = endpoint }

        // MARK: Requests

        /// Queues `request` for its replies. Returns nil when it is to be written, or the
        /// error to fail it with (nothing is written then).
        mutating func enqueue(_ request: PendingRequest) -> RedisClientError? {
            if updateQueue({ $0.waiting.append(request) }) { return nil }
            return refusal(request.label)
        }

        /// Notes the reply of an unclaimed request that gets none from the server (the
        /// SUBSCRIBE family: messages answer it): nil, at once.
        mutating func answerNow(ticket: Int) -> RedisClientError? {
            if updateQueue({ $0.early.append(.init(ticket: ticket, result: .success(.null))) }) { return nil }
            return refusal(nil)
        }

        /// Runs `body` on the queue of a connection that takes requests (active or
        /// streaming; closing too with `closing`), moved out of the state so that it is
        /// not copied. False when there is no such queue.
        private mutating func updateQueue(closing: Bool = false, _ body: (inout ReplyQueue) -> Void) -> Bool {
            switch state {
            case .active(var queue):
                state = .modifying
                body(&queue)
                state = .active(queue)
            case .streaming(var queue, let stream):
                state = .modifying
                body(&queue)
                state = .streaming(queue, stream)
            case .closing(var queue) where closing:
                state = .modifying
                body(&queue)
                state = .closing(queue)
            case .closing, .closed:
                return false
            case .modifying:
                preconditionFailure("re-entered the state machine")
            }
            return true
        }

        /// The error that closed the connection, once closed.
        var failure: RedisClientError? {
            if case .closed(let error) = state { return error }
            return nil
        }

        /// Why a connection that is closing or closed takes no request (`label`).
        private func refusal(_ label: String?) -> RedisClientError {
            if case .closed(let error) = state { return error }
            return RedisClientError(.connectionClosed, "connection to \(endpoint) is closed" + (label.map { "; cannot send \($0)" } ?? ""),
                                    endpoint: endpoint, command: label)
        }

        /// Starts streaming every message to `stream`'s consumer. Returns nil when the
        /// command that starts it is to be written, or the error to end the stream with.
        mutating func startStreaming(_ stream: Stream) -> RedisClientError? {
            switch state {
            case .active(let queue):
                state = .streaming(queue, stream)
                return nil
            case .streaming:
                return RedisClientError(.unexpectedReply,
                    "connection to \(endpoint) is streaming messages already; open another connection", endpoint: endpoint)
            case .closing:
                return RedisClientError(.connectionClosed, "connection to \(endpoint) is closed", endpoint: endpoint)
            case .closed(let error):
                return error
            case .modifying:
                preconditionFailure("re-entered the state machine")
            }
        }

        /// True when stream `id` is the one messages go to now.
        func isStreaming(_ id: Int) -> Bool {
            if case .streaming(_, let stream) = state { return stream.id == id }
            return false
        }

        /// Lets `continuation` wait for the unclaimed request `ticket` (see ``ReplyQueue/claim(_:_:)``).
        mutating func claim(_ ticket: Int, _ continuation: ReplyContinuation<RESPValue>) {
            var outcome = ReplyQueue.Claim.unknown
            guard updateQueue(closing: true, { outcome = $0.claim(ticket, continuation) }) else {
                continuation.resume(throwing: refusal(nil))
                return
            }
            if case .unknown = outcome {
                continuation.resume(throwing: RedisClientError(.connectionClosed,
                    "connection to \(endpoint) has no request waiting for this reply", endpoint: endpoint))
            }
        }

        /// The request waiting for the next reply.
        var head: PendingRequest? {
            switch state {
            case .active(let queue), .streaming(let queue, _), .closing(let queue): queue.waiting.first
            case .closed, .modifying: nil
            }
        }

        // MARK: Replies

        enum Delivery {
            case delivered
            /// A reply no request waits for and no stream takes: the connection is out of step.
            case unexpected(RESPValue)
        }

        /// Calls `body` with the function that routes one reply, for all the replies of
        /// one read: the queue is moved out of the state once per read, not per reply.
        /// Always inlined into `channelRead`, so that `route` is a known closure there and
        /// no indirect call is made per reply.
        @inline(__always)
        mutating func receiving(_ body: (_ route: (RESPToken) -> Delivery) -> Void) {
            switch state {
            case .active(var queue):
                state = .modifying
                var stream: Stream?
                let pushes = pushConsumer
                body { Self.route($0, queue: &queue, stream: &stream, pushes: pushes) }
                state = stream.map { .streaming(queue, $0) } ?? .active(queue)
            case .streaming(var queue, let current):
                state = .modifying
                var stream: Stream? = current
                let pushes = pushConsumer
                body { Self.route($0, queue: &queue, stream: &stream, pushes: pushes) }
                state = stream.map { .streaming(queue, $0) } ?? .active(queue)
            case .closing(var queue):
                state = .modifying
                var stream: Stream?
                body { Self.route($0, queue: &queue, stream: &stream, pushes: nil) }
                state = .closing(queue)
            case .closed:
                // Bytes read after a failure answer nothing anyone waits for.
                body { _ in .delivered }
            case .modifying:
                preconditionFailure("re-entered the state machine")
            }
        }

        /// Where one reply goes: a RESP3 push to the stream or the push consumer; under
        /// RESP2, a pub/sub message to the stream; MONITOR's lines to the stream; any other
        /// reply to the request at the head of the queue.
        @inline(__always)
        static func route(_ token: RESPToken, queue: inout ReplyQueue, stream: inout Stream?,
                          pushes: AsyncStream<RESPValue>.Continuation?) -> Delivery {
            if token.typeByte == UInt8(ascii: ">") {
                let value = token.value
                if let current = stream {
                    deliver(value, to: current, stream: &stream)
                } else {
                    pushes?.yield(value)
                }
                return .delivered
            }
            if let current = stream {
                switch current.kind {
                case .monitor:
                    if queue.isEmpty {
                        current.consumer.yield(token.value)
                        return .delivered
                    }
                case .pubsub:
                    let value = token.value
                    if value.pubSubKind != nil || queue.isEmpty {
                        deliver(value, to: current, stream: &stream)
                        return .delivered
                    }
                    return queue.deliver(value) == .delivered ? .delivered : .unexpected(value)
                }
            }
            if case .delivered = queue.deliver(token) { return .delivered }
            // Under RESP2, (UN)SUBSCRIBE outside a stream is confirmed by an array that
            // answers no request: a message, not a broken connection.
            let value = token.value
            if value.pubSubKind != nil {
                pushes?.yield(value)
                return .delivered
            }
            return .unexpected(value)
        }

        /// Hands a message to the stream; the last unsubscription ends it.
        private static func deliver(_ value: RESPValue, to current: Stream, stream: inout Stream?) {
            current.consumer.yield(value)
            if current.kind == .pubsub, value.endsSubscriptions {
                current.consumer.finish()
                stream = nil
            }
        }

        // MARK: Failure and close

        /// ``RedisConnection/close()``: no new requests from now on.
        mutating func closeRequested() {
            switch state {
            case .active(let queue): state = .closing(queue)
            case .streaming(let queue, let stream):
                stream.consumer.finish()
                state = .closing(queue)
            case .closing, .closed: break
            case .modifying: preconditionFailure("re-entered the state machine")
            }
        }

        /// True after ``closeRequested()``: a channel that goes inactive now was closed on purpose.
        var isClosing: Bool {
            if case .closing = state { return true }
            return false
        }

        /// Moves to `closed(error)` and fails every request in flight and the stream with
        /// `error`; the first failure is the one kept. Returns false when closed already.
        @discardableResult
        mutating func fail(_ error: RedisClientError) -> Bool {
            var queue: ReplyQueue
            switch state {
            case .active(let q), .closing(let q):
                queue = q
            case .streaming(let q, let stream):
                queue = q
                stream.consumer.finish(throwing: error)
            case .closed:
                return false
            case .modifying:
                preconditionFailure("re-entered the state machine")
            }
            state = .closed(error)
            pushConsumer?.finish()
            queue.failAll(error)
            // Replies claimed later find the error through the closed state; drop the rest.
            return true
        }
    }
}

extension ReplyQueue.Delivery: Equatable {}

extension RESPValue {
    /// `message`, `subscribe`... when this is a pub/sub message (a RESP2 array or a RESP3
    /// push whose first element names its kind).
    var pubSubKind: String? {
        let items: [RESPValue]
        switch self {
        case .array(let a), .push(let a): items = a
        default: return nil
        }
        guard items.count >= 3, let first = items.first?.string, first.count <= 12 else { return nil }
        switch first.lowercased() {
        case "message", "pmessage", "smessage", "subscribe", "psubscribe", "ssubscribe",
             "unsubscribe", "punsubscribe", "sunsubscribe":
            return first.lowercased()
        default:
            return nil
        }
    }

    /// True for an unsubscription that leaves no subscription (its count is 0).
    var endsSubscriptions: Bool {
        guard let kind = pubSubKind, kind.hasSuffix("unsubscribe"), let items = elements, items.count == 3 else { return false }
        return items[2].int == 0
    }
}
