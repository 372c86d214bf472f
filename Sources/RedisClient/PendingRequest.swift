import NIOCore
import RESP

/// Replies a request is waiting for, and where to deliver them.
struct PendingRequest: Sendable {
    enum Sink: Sendable {
        case one(ReplyContinuation<RESPValue>)
        case many(ReplyContinuation<[RESPValue]>)
        /// Only the error replies are looked at (see ``RedisConnection/pipelineCountingErrors(encoded:count:)``).
        case counting(ReplyContinuation<PipelineErrorCount>)
        /// Written by ``RedisConnection/submit(encoded:kind:)``; nobody waits yet. The
        /// caller claims the reply with ``RedisConnection/reply(to:closingOnCancel:isolation:)``
        /// and this ticket.
        case unclaimed(ticket: Int)
    }

    /// What was sent, for error messages: a command's first word (never its arguments)
    /// or a pipeline's size. The text is made only when an error needs it.
    enum Subject: Sendable {
        case command(RESPArgument)
        /// A command sent already encoded: its name is read back from the bytes.
        case encoded(ByteBuffer)
        case pipeline(count: Int)
    }

    let subject: Subject
    /// How many replies complete this request.
    let expected: Int
    /// When the first reply is overdue; nil waits forever (blocking commands).
    let deadline: NIODeadline?
    var sink: Sink

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

    /// Resumes the caller with `error`; an unclaimed request's failure is kept in `early`.
    func fail(_ error: RedisClientError, early: inout [ReplyQueue.EarlyReply]) {
        var error = error
        if error.command == nil { error.command = label }
        switch sink {
        case .one(let c): c.resume(throwing: error)
        case .many(let c): c.resume(throwing: error)
        case .counting(let c): c.resume(throwing: error)
        case .unclaimed(let ticket): early.append(.init(ticket: ticket, result: .failure(error)))
        }
    }
}

/// Requests waiting for replies, in order, and the replies collected for the first one.
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

    /// The reply (or failure) of a request written by ``RedisConnection/submit(encoded:kind:)``
    /// that came before its caller asked for it.
    struct EarlyReply {
        let ticket: Int
        let result: Result<RESPValue, RedisClientError>
    }
    /// Replies of unclaimed requests, oldest first; almost always empty (the shell claims
    /// its reply before the loop can read it).
    var early: [EarlyReply] = []

    enum Delivery {
        case delivered
        /// A reply arrived with no request waiting for it.
        case unexpected
    }

    var isEmpty: Bool { waiting.isEmpty }

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
            counted.errorIndexes.append(countedReplies)
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
            case .unclaimed(let ticket): early.append(.init(ticket: ticket, result: .success(value)))
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

    enum Claim {
        /// The continuation now waits for the reply.
        case waiting
        /// The reply (or failure) was in already; the continuation was resumed.
        case resumed
        /// No request has that ticket.
        case unknown
    }

    /// Lets `continuation` wait for the reply of the unclaimed request `ticket`, or resumes
    /// it at once when that reply came already.
    mutating func claim(_ ticket: Int, _ continuation: ReplyContinuation<RESPValue>) -> Claim {
        if !early.isEmpty, let i = early.firstIndex(where: { $0.ticket == ticket }) {
            continuation.resume(with: early.remove(at: i).result)
            return .resumed
        }
        // The request is nearly always the last one written: search from the end.
        var i = waiting.endIndex
        while i != waiting.startIndex {
            i = waiting.index(before: i)
            if case .unclaimed(ticket) = waiting[i].sink {
                waiting[i].sink = .one(continuation)
                return .waiting
            }
        }
        return .unknown
    }

    /// Fails every waiting request.
    mutating func failAll(_ error: RedisClientError) {
        collected = []
        countedReplies = 0
        counted = PipelineErrorCount()
        head = nil
        while let pending = waiting.popFirst() { pending.fail(error, early: &early) }
    }
}
