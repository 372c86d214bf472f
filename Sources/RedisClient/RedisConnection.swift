import NIOCore
import NIOPosix
import RESP

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
    private let handler: NIOLoopBound<RedisChannelHandler>
    /// The command timeout as NIO counts time, converted once: taking a Duration apart
    /// for every command showed in profiles of sequential commands.
    private let commandTimeout: TimeAmount?

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
        self.commandTimeout = configuration.commandTimeout.map { .nanoseconds(nanoseconds($0)) }
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
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount.nanoseconds(nanoseconds(configuration.connectTimeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RedisChannelHandler(endpoint: endpoint, commandTimeout: configuration.commandTimeout)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            switch endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw RedisClientError(.connectFailed, "cannot connect to \(endpoint): \(describeIOError(error))")
        }
        let handler: NIOLoopBound<RedisChannelHandler>
        do {
            handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self),
                             eventLoop: channel.eventLoop)
            }.get()
        } catch {
            channel.close(promise: nil)
            throw RedisClientError(.connectFailed, "cannot connect to \(endpoint): \(describeIOError(error))")
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
                throw RedisClientError(.serverError, "\(endpoint) refused HELLO 3 (RESP3): \(message)", serverMessage: message)
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
                _ = try await reply(to: RESPCommand("CLIENT", "SETNAME", name))
            }
        }
        if c.database != 0 {
            let reply = try await reply(to: RESPCommand("SELECT", String(c.database)))
            if let message = reply.errorMessage {
                throw RedisClientError(.serverError, "cannot select database \(c.database) on \(endpoint): \(message)",
                                       serverMessage: message)
            }
        }
        return hello
    }

    private func authenticationError(_ message: String) -> RedisClientError {
        let user = configuration.username ?? "default"
        return RedisClientError(.authenticationFailed,
            "authentication as user \"\(user)\" failed at \(endpoint): \(message)", serverMessage: message)
    }

    /// Sends one command and returns its reply; an error reply throws
    /// ``RedisClientError/Kind/serverError`` naming the server and the command.
    ///
    /// `isolation` is the caller's actor, filled in by the compiler: the request is sent
    /// and its reply awaited there, with no hop to another executor and back (see
    /// ``exchange(_:subject:expected:closingOnCancel:whileWaiting:isolation:sink:)``).
    public func send(_ command: RESPCommand,
                     isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        let value = try await reply(to: command)
        if let message = value.errorMessage {
            throw RedisClientError.server(endpoint, command.name, message)
        }
        return value
    }

    /// Sends one command and returns its reply, error replies included, as a value.
    public func reply(to command: RESPCommand,
                      isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        var bytes = channel.allocator.buffer(capacity: 64)
        bytes.writeRESPCommand(command)
        return try await exchange(bytes, subject: .command(command.arguments.first ?? .string("")), expected: 1,
                                  isolation: isolation, sink: PendingRequest.Sink.one)
    }

    /// Sends one command already encoded as RESP (``NIOCore/ByteBuffer/writeRESPCommand(_:)``)
    /// and returns its reply, error replies included. For callers that encode straight
    /// from their own representation of a command, with no ``RESPCommand`` in between:
    /// the shell encodes a statement's words as it runs it.
    ///
    /// With `closingOnCancel` false the wait has no cancellation handler of its own: the
    /// caller must close the connection (``abort()``) when its task is cancelled, or a
    /// command that blocks (BLPOP 0) cannot be interrupted. The shell installs one handler
    /// around a whole run of statements: adding and removing one per command was about
    /// 2% of a script of plain SETs.
    ///
    /// `whileWaiting` runs right after the command is written, on the caller's actor,
    /// before the reply can arrive: the shell writes the previous statement's value then.
    public func reply(toEncoded bytes: ByteBuffer, closingOnCancel: Bool = true, whileWaiting: () -> Void = {},
                      isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> RESPValue {
        try await exchange(bytes, subject: .encoded(bytes), expected: 1, closingOnCancel: closingOnCancel,
                           whileWaiting: whileWaiting, isolation: isolation, sink: PendingRequest.Sink.one)
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
        try await exchange(bytes, subject: .pipeline(count: count), expected: count,
                           isolation: isolation, sink: PendingRequest.Sink.many)
    }

    /// Sends `count` commands already encoded into `bytes` and counts the error replies,
    /// keeping the first ``PipelineErrorCount/kept`` messages with their command's index.
    /// Replies are framed and validated but never built into values: for bulk loaders
    /// that only need to know what failed.
    public func pipelineCountingErrors(encoded bytes: ByteBuffer, count: Int,
                                       isolation: isolated (any Actor)? = #isolation) async throws(RedisClientError) -> PipelineErrorCount {
        guard count > 0 else { return PipelineErrorCount() }
        return try await exchange(bytes, subject: .pipeline(count: count), expected: count,
                                  isolation: isolation, sink: PendingRequest.Sink.counting)
    }

    /// Sends `bytes` and waits for the `expected` replies, closing the connection if the
    /// task is cancelled meanwhile (a late reply would be matched to the wrong request),
    /// unless `closingOnCancel` is false: then the caller's own handler closes it.
    ///
    /// The closure given to `withTaskCancellationHandler` uses `isolation`, which makes it
    /// isolated to the caller's actor. Without that it is a nonisolated closure, and
    /// calling it hopped to the generic executor and back: two more trips through the
    /// event loop's queue per command (measured with a counting executor).
    private func exchange<T>(_ bytes: ByteBuffer, subject: PendingRequest.Subject, expected: Int, closingOnCancel: Bool = true,
                             whileWaiting: () -> Void = {}, isolation: isolated (any Actor)?,
                             sink: @escaping (UnsafeContinuation<T, any Error>) -> PendingRequest.Sink) async throws(RedisClientError) -> T {
        let deadline = self.deadline()
        let channel = self.channel
        // Hands the request to the handler, which resumes `continuation` with the reply.
        func start(_ continuation: UnsafeContinuation<T, any Error>) {
            submit(OutboundRequest(bytes: bytes, pending: PendingRequest(subject: subject, expected: expected,
                                                                        deadline: deadline, sink: sink(continuation))))
            whileWaiting()
        }
        do {
            guard closingOnCancel else {
                return try await withUnsafeThrowingContinuation(isolation: isolation, start)
            }
            return try await withTaskCancellationHandler {
                _ = isolation
                return try await withUnsafeThrowingContinuation(start)
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
        try? await channel.eventLoop.submit { handler.value.closingOnPurpose = true }.get()
        try? await channel.close()
    }

    /// Calls `body` with every RESP3 push message (pub/sub, invalidations) as it arrives.
    public func onPush(_ body: @escaping @Sendable (RESPValue) -> Void) async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.onPush = body }.get()
    }

    private func deadline() -> NIODeadline? {
        commandTimeout.map { .now() + $0 }
    }

    private func asClientError(_ error: any Error) -> RedisClientError {
        if let error = error as? RedisClientError { return error }
        return RedisClientError(.connectionClosed, "connection to \(endpoint) failed: \(describeIOError(error))")
    }
}

/// Whole nanoseconds in a Duration.
func nanoseconds(_ d: Duration) -> Int64 {
    d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
}
