import NIOCore
import RESP

/// A command written by ``RedisConnection/submit(encoded:kind:isolation:)`` whose reply
/// is not awaited yet.
public struct PendingReply: Sendable {
    let ticket: Int
}

extension RedisConnection {
    /// Writes one command already encoded as RESP (``NIOCore/ByteBuffer/writeRESPCommand(_:)``)
    /// and returns at once; ``reply(to:closingOnCancel:isolation:)`` then waits for its reply.
    ///
    /// Two steps so that a caller can work while the server does: the shell writes the
    /// previous statement's output between them. Must be called on the connection's event
    /// loop (``eventLoop``, for example from an ``EventLoopIsolation`` actor), where it
    /// writes synchronously: no hop and no allocation beyond the request's entry. `kind`
    /// decides the wait (see ``CommandKind``): none for a blocking command; a
    /// `.subscription` command gets no reply and its pending reply is nil.
    public func submit(encoded bytes: ByteBuffer, kind: CommandKind = .plain,
                       isolation: isolated (any Actor)? = #isolation) -> PendingReply {
        let handler = self.handler
        precondition(handler.eventLoop.inEventLoop, "RedisConnection.submit must be called on the connection's event loop")
        let ticket = handler.value.submit(bytes, subject: .encoded(bytes), kind: kind,
                                          deadline: kind == .blocking || kind == .monitor ? nil : deadline())
        return PendingReply(ticket: ticket)
    }

    /// Waits for the reply to `pending`, error replies included, as a value.
    ///
    /// With `closingOnCancel` false the wait has no cancellation handler of its own: the
    /// caller must close the connection (``abort()``) when its task is cancelled, or a
    /// command that blocks (BLPOP 0) cannot be interrupted. The shell installs one handler
    /// around a whole run of statements: adding and removing one per command was about
    /// 2% of a script of plain SETs.
    public func reply(to pending: PendingReply, closingOnCancel: Bool = true,
                      isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        let handler = self.handler
        let ticket = pending.ticket
        func claim(_ continuation: ReplyContinuation<RESPValue>) {
            if handler.eventLoop.inEventLoop {
                handler.value.claim(ticket, continuation)
            } else {
                handler.eventLoop.execute { handler.value.claim(ticket, continuation) }
            }
        }
        do {
            guard closingOnCancel else {
                return try await withReplyContinuation(isolation: isolation, claim)
            }
            let channel = self.channel
            return try await withTaskCancellationHandler {
                try await withReplyContinuation(isolation: isolation, claim)
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            throw asClientError(error)
        }
    }

    /// Sends one command already encoded as RESP and returns its reply, error replies
    /// included: ``submit(encoded:kind:isolation:)`` and ``reply(to:closingOnCancel:isolation:)``
    /// in one step, from any executor.
    public func reply(toEncoded bytes: ByteBuffer,
                      isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        let kind = CommandKind(encodedCommand: bytes)
        if kind == .subscription || kind == .monitor || !handler.eventLoop.inEventLoop {
            // Off the loop, submit cannot run here: hop once, keeping submit and claim in order.
            let connection = self
            let pending = try await asyncOnLoop { connection.submit(encoded: bytes, kind: kind, isolation: nil) }
            return try await reply(to: pending, isolation: isolation)
        }
        return try await reply(to: submit(encoded: bytes, kind: kind, isolation: isolation), isolation: isolation)
    }

    private func asyncOnLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(RedisClientError) -> T {
        if eventLoop.inEventLoop { return body() }
        do {
            return try await eventLoop.submit(body).get()
        } catch {
            throw asClientError(error)
        }
    }
}
