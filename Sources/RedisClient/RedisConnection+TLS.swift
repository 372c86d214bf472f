import NIOCore
import NIOSSL

/// What one TLS connection needs before its channel exists: the context made from
/// ``RedisTLSConfiguration`` (files read once, up front), the name for SNI, and the
/// promise the ``TLSHandshakeWatcher`` completes.
struct TLSSetup: Sendable {
    let context: NIOSSLContext
    /// Sent in SNI and checked against the certificate; nil for an IP address (checked
    /// against the certificate's IP entries instead).
    let serverHostname: String?
    /// What the certificate must name, for the name-mismatch message.
    let expectedName: String?
    let handshake: EventLoopPromise<Void>
    let timeout: TimeAmount
    /// An explicit `--sni` name under full verification: the certificate must list it.
    let requiredName: String?

    /// Nil when `configuration` asks for plain TCP.
    init?(_ configuration: RedisConnectionConfiguration, group: any EventLoopGroup) throws(RedisClientError) {
        guard let tls = configuration.tls else { return nil }
        let endpoint = configuration.endpoint
        guard case .tcp(let host, _) = endpoint else {
            throw RedisClientError(.tlsNotSupported,
                "cannot use TLS with \(endpoint): TLS needs a TCP address (host:port), not a unix socket", endpoint: endpoint)
        }
        context = try tls.makeContext(for: endpoint)
        let hostIsAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        serverHostname = tls.serverName ?? (hostIsAddress ? nil : host)
        expectedName = tls.serverName ?? host
        requiredName = tls.verification == .full ? tls.serverName : nil
        timeout = .nanoseconds(configuration.connectTimeout.wholeNanoseconds)
        handshake = group.any().makePromise(of: Void.self)
    }

    /// Adds the TLS handler and the handshake's watcher; called in the channel initializer.
    func addHandlers(to channel: any Channel) throws {
        let operations = channel.pipeline.syncOperations
        try operations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverHostname))
        try operations.addHandler(TLSHandshakeWatcher(promise: handshake, timeout: timeout, requiredName: requiredName))
    }
}
