import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import RESP
import Synchronization

/// One connection to a Redis (or Valkey) server over TCP or a unix socket.
///
/// Commands may be sent from any task; replies are matched to requests in order.
/// ``pipeline(_:)`` writes many commands at once and reads all their replies.
/// Error replies throw from ``send(_:)`` and come back as values from ``pipeline(_:)``
/// and ``reply(to:)``.
public final class RedisConnection: Sendable {
    /// How this connection was set up.
    public let configuration: RedisConnectionConfiguration
    /// The reply to `HELLO 3` when RESP3 was asked for (server name, version, id...).
    public let hello: RESPValue?
    let channel: any Channel
    let handler: NIOLoopBound<RedisChannelHandler>
    /// The command timeout as NIO counts time, converted once: taking a Duration apart
    /// for every command showed in profiles of sequential commands.
    private let commandTimeout: TimeAmount?
    /// Numbers the message streams (see ``stream(encoded:kind:)``).
    let streamIDs = Atomic<Int>(0)

    /// Where this connection goes.
    public var endpoint: RedisEndpoint { configuration.endpoint }
    /// The event loop this connection's channel runs on (see ``EventLoopIsolation``).
    public var eventLoop: any EventLoop { channel.eventLoop }
    /// False once the connection has closed, for whatever reason.
    public var isOpen: Bool { channel.isActive }

    private init(configuration: RedisConnectionConfiguration, channel: any Channel,
                 handler: NIOLoopBound<RedisChannelHandler>, hello: RESPValue?) {
        self.configuration = configuration
        self.channel = channel
        self.handler = handler
        self.hello = hello
        self.commandTimeout = configuration.commandTimeout.map { .nanoseconds($0.wholeNanoseconds) }
    }

    /// A connection over `channel`, whose pipeline has a ``RedisChannelHandler`` already,
    /// with no handshake: for unit tests of the handler on a testing channel.
    static func wrapping(_ channel: any Channel, configuration: RedisConnectionConfiguration) async throws -> RedisConnection {
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return RedisConnection(configuration: configuration, channel: channel, handler: handler, hello: nil)
    }

    /// Opens a connection, authenticates, switches protocol and database as configured.
    ///
    /// Throws `cannot connect to HOST:PORT: connection refused` (or timed out, host not
    /// found...), or an authentication error that never contains the password.
    public static func connect(
        _ configuration: RedisConnectionConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(RedisClientError) -> RedisConnection {
        let endpoint = configuration.endpoint
        // The handler is kept as it is made, not looked up in the pipeline afterwards: a
        // server that refuses the client's certificate does so after the client's TLS 1.3
        // handshake has finished, and may have closed the channel (emptying its pipeline)
        // by then. The handler itself knows why it closed, and says so on the first command.
        let made = NIOLockedValueBox<NIOLoopBound<RedisChannelHandler>?>(nil)
        let channel = try await openChannel(configuration, group: group) { channel, usesTLS in
            let handler = RedisChannelHandler(endpoint: endpoint,
                                              commandTimeout: configuration.commandTimeout.map { .nanoseconds($0.wholeNanoseconds) },
                                              maxReplyBytes: configuration.maxReplyBytes,
                                              usesTLS: usesTLS)
            try channel.pipeline.syncOperations.addHandler(handler)
            made.withLockedValue { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
        }
        guard let handler = made.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw RedisClientError(.connectFailed, "cannot connect to \(endpoint): the connection was set up without its handler",
                                   endpoint: endpoint)
        }
        let unready = RedisConnection(configuration: configuration, channel: channel, handler: handler, hello: nil)
        do {
            let hello = try await unready.handshake()
            return RedisConnection(configuration: configuration, channel: channel, handler: handler, hello: hello)
        } catch {
            await unready.close()
            throw error
        }
    }

    /// HELLO 3 or AUTH, then SELECT. Messages never include the password.
    private func handshake() async throws(RedisClientError) -> RESPValue? {
        let c = configuration
        var hello: RESPValue?
        if c.protocolVersion == 3 {
            var words: [RESPArgument] = ["HELLO", "3"]
            if let password = c.password {
                words += ["AUTH", .string(c.username ?? "default"), .string(password.revealed)]
            }
            if let name = c.clientName { words += ["SETNAME", .string(name)] }
            let reply = try await reply(to: RESPCommand(words))
            if let message = reply.errorMessage {
                if message.hasPrefix("WRONGPASS") || message.hasPrefix("NOAUTH") {
                    throw authenticationError(message)
                }
                throw RedisClientError(.serverError, "\(endpoint) refused HELLO 3 (RESP3): \(message)", serverMessage: message,
                                       endpoint: endpoint, command: "HELLO")
            }
            hello = reply
        } else {
            if let password = c.password {
                var words: [RESPArgument] = ["AUTH"]
                if let user = c.username { words.append(.string(user)) }
                words.append(.string(password.revealed))
                let reply = try await reply(to: RESPCommand(words))
                if let message = reply.errorMessage { throw authenticationError(message) }
            }
            if let name = c.clientName {
                let reply = try await reply(to: RESPCommand("CLIENT", "SETNAME", name))
                // NOAUTH: a server with a password, and none given: the user may type AUTH next.
                if let message = reply.errorMessage, !message.hasPrefix("NOAUTH") {
                    throw RedisClientError(.serverError, "\(endpoint) refused CLIENT SETNAME: \(message)", serverMessage: message,
                                           endpoint: endpoint, command: "CLIENT SETNAME")
                }
            }
        }
        if c.database != 0 {
            let reply = try await reply(to: RESPCommand("SELECT", String(c.database)))
            if let message = reply.errorMessage {
                throw RedisClientError(.serverError, "cannot select database \(c.database) on \(endpoint): \(message)",
                                       serverMessage: message, endpoint: endpoint, command: "SELECT")
            }
        }
        return hello
    }

    private func authenticationError(_ message: String) -> RedisClientError {
        let user = configuration.username ?? "default"
        return RedisClientError(.authenticationFailed,
            "authentication as user \"\(user)\" failed at \(endpoint): \(message)", serverMessage: message,
            endpoint: endpoint, command: configuration.protocolVersion == 3 ? "HELLO" : "AUTH")
    }

    /// Sends one command and returns its reply; an error reply throws
    /// ``RedisClientError/Kind/serverError`` naming the server and the command.
    ///
    /// `isolation` is the caller's actor, filled in by the compiler: the request is sent
    /// and its reply awaited there, with no hop to another executor and back (see
    /// ``exchange(_:subject:expected:deadline:isolation:sink:)``).
    public func send(_ command: RESPCommand,
                     isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        let value = try await reply(to: command)
        if let message = value.errorMessage {
            throw RedisClientError.server(endpoint, command.name, message)
        }
        return value
    }

    /// Sends one command and returns its reply, error replies included, as a value.
    ///
    /// A blocking command (``CommandKind/blocking``: BLPOP, XREAD BLOCK, WAIT...) has no
    /// reply deadline. The SUBSCRIBE family is answered by messages, not a reply: it
    /// returns nil once written, and the confirmations arrive on ``pushes()`` (or use
    /// ``stream(_:)``).
    public func reply(to command: RESPCommand,
                      isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        var bytes = channel.allocator.buffer(capacity: 64)
        bytes.writeRESPCommand(command)
        let kind = CommandKind(command)
        if kind == .subscription || kind == .monitor {
            return try await reply(toEncoded: bytes, isolation: isolation)
        }
        return try await exchange(bytes, subject: .command(command.arguments.first ?? .string("")), expected: 1,
                                  deadline: kind == .blocking ? nil : deadline(),
                                  isolation: isolation, sink: PendingRequest.Sink.one)
    }

    /// Closes the connection now, from any thread, without waiting: the request waiting
    /// for a reply fails with "connection ... was closed". For a cancellation handler.
    public func abort() {
        channel.close(promise: nil)
    }

    /// Writes every command in one write, then reads every reply, in order. Error replies
    /// are values in the result; a broken connection throws.
    public func pipeline(_ commands: [RESPCommand],
                         isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes = channel.allocator.buffer(capacity: commands.count * 48)
        for command in commands { bytes.writeRESPCommand(command) }
        return try await pipeline(encoded: bytes, count: commands.count)
    }

    /// Sends `count` commands already encoded into `bytes` and returns their replies.
    /// For callers that encode straight into a buffer (bulk loaders, benchmarks).
    public func pipeline(encoded bytes: ByteBuffer, count: Int,
                         isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> [RESPValue] {
        try await exchange(bytes, subject: .pipeline(count: count), expected: count, deadline: deadline(),
                           isolation: isolation, sink: PendingRequest.Sink.many)
    }

    /// Sends `count` commands already encoded into `bytes` and counts the error replies,
    /// keeping the first ``PipelineErrorCount/kept`` messages with their command's index.
    /// Replies are framed and validated but never built into values: for bulk loaders
    /// that only need to know what failed.
    public func pipelineCountingErrors(encoded bytes: ByteBuffer, count: Int,
                                       isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> PipelineErrorCount {
        guard count > 0 else { return PipelineErrorCount() }
        return try await exchange(bytes, subject: .pipeline(count: count), expected: count, deadline: deadline(),
                                  isolation: isolation, sink: PendingRequest.Sink.counting)
    }

    /// Sends `bytes` and waits for the `expected` replies, closing the connection if the
    /// task is cancelled meanwhile (a late reply would be matched to the wrong request).
    ///
    /// The closure given to `withTaskCancellationHandler` uses `isolation`, which makes it
    /// isolated to the caller's actor. Without that it is a nonisolated closure, and
    /// calling it hopped to the generic executor and back: two more trips through the
    /// event loop's queue per command (measured with a counting executor).
    private func exchange<T>(_ bytes: ByteBuffer, subject: PendingRequest.Subject, expected: Int, deadline: NIODeadline?,
                             isolation: isolated (any Actor)?,
                             sink: @escaping (ReplyContinuation<T>) -> PendingRequest.Sink) async throws(RedisClientError) -> T {
        let channel = self.channel
        do {
            return try await withTaskCancellationHandler {
                try await withReplyContinuation(isolation: isolation) { continuation in
                    submit(OutboundRequest(bytes: bytes, pending: PendingRequest(subject: subject, expected: expected,
                                                                                deadline: deadline, sink: sink(continuation))))
                }
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            throw asClientError(error)
        }
    }

    /// Hands a request to the handler on the channel's loop; the handler resumes the
    /// caller with the replies or with the reason the connection cannot take it.
    private func submit(_ request: OutboundRequest) {
        let handler = self.handler
        // Already on the loop (the usual case once replies have arrived, since the loop is
        // also the concurrency executor): no hop, no allocation.
        if handler.eventLoop.inEventLoop {
            handler.value.send(request)
        } else {
            handler.eventLoop.execute { handler.value.send(request) }
        }
    }

    /// Closes the connection; pending requests fail with "connection ... was closed".
    public func close() async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.closeRequested() }.get()
        try? await channel.close()
    }

    func deadline() -> NIODeadline? {
        commandTimeout.map { .now() + $0 }
    }

    func asClientError(_ error: any Error) -> RedisClientError {
        if let error = error as? RedisClientError { return error }
        return RedisClientError(.connectionClosed, "connection to \(endpoint) failed: \(describeIOError(error))",
                                endpoint: endpoint, underlying: error)
    }
}
