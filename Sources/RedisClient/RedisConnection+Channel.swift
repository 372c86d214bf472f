import NIOCore
import NIOPosix
import NIOSSL

extension RedisConnection {
    /// Opens a channel to the server of `configuration`: TCP or a unix socket, with TLS
    /// when the configuration asks for it (the handshake done and the certificate checked
    /// before this returns). `addHandlers` adds the protocol's handlers after TLS's (its
    /// second argument says whether TLS is on); ``connect(_:group:)`` adds the command
    /// handler, a replica link its own.
    ///
    /// Throws as ``connect(_:group:)`` does: `cannot connect to HOST:PORT: ...`, or the
    /// TLS failure named (unknown CA, name mismatch...).
    public static func openChannel(
        _ configuration: RedisConnectionConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        keepAlive: Bool = false,
        addHandlers: @escaping @Sendable (any Channel, _ usesTLS: Bool) throws -> Void
    ) async throws(RedisClientError) -> any Channel {
        let endpoint = configuration.endpoint
        let tls = try TLSSetup(configuration, group: group)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount.nanoseconds(configuration.connectTimeout.wholeNanoseconds))
            .channelOption(.socketOption(.so_keepalive), value: keepAlive ? 1 : 0)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try tls.addHandlers(to: channel) }
                    try addHandlers(channel, tls != nil)
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
            tls?.handshake.fail(error)
            if let tlsError = error as? NIOSSLExtraError {
                throw RedisClientError(.tlsFailed, "cannot use TLS with \(endpoint): \(tlsError)", endpoint: endpoint,
                                       underlying: tlsError)
            }
            throw RedisClientError(.connectFailed, "cannot connect to \(endpoint): \(describeIOError(error))",
                                   endpoint: endpoint, underlying: error)
        }
        if let tls {
            do {
                try await tls.handshake.futureResult.get()
            } catch {
                channel.close(promise: nil)
                throw RedisClientError.tlsHandshake(error, endpoint: endpoint, expectedName: tls.expectedName)
            }
        }
        return channel
    }
}
