import NIOCore
import NIOPosix
import RedisClient

/// One replication connection to a master: the handshake, then the RDB of a full sync
/// (or nothing, on `+CONTINUE`), then the command stream, as ``events``.
///
/// The link acknowledges only ``ReplicaAcknowledgement/durableOffset``, raised by its
/// owner as it archives. The stream ends (throwing ``ReplicaLinkError``) when the master
/// refuses, closes the link or sends what the protocol does not allow.
public final class ReplicaLink: Sendable {
    /// The events, in the order the master sent them.
    public let events: AsyncThrowingStream<[ReplicaEvent], any Error>
    /// The master, `host:port`.
    public let master: String
    private let channel: any Channel

    private init(events: AsyncThrowingStream<[ReplicaEvent], any Error>, master: String, channel: any Channel) {
        self.events = events
        self.master = master
        self.channel = channel
    }

    /// Connects to the master of `configuration` (its user and password authenticate
    /// the link) and sends the handshake: PSYNC `resume` (the id and next offset) when
    /// given, else a full sync. `listeningPort` is what the master shows for this replica
    /// in INFO replication (the collector listens on none: 0 by default).
    public static func connect(_ configuration: RedisConnectionConfiguration, resume: (replicationId: String, offset: Int)?,
                               acknowledgement: ReplicaAcknowledgement, listeningPort: Int = 0,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ReplicaLink {
        let master = configuration.endpoint.description
        let (bytes, pending, psync) = ReplicaProtocol.handshake(user: configuration.username, password: configuration.password?.revealed,
                                                         listeningPort: listeningPort, resume: resume)
        let state = ReplicaProtocol(master: master, pending: pending, psync: psync, continuingAt: resume?.offset)
        let (events, continuation) = AsyncThrowingStream.makeStream(of: [ReplicaEvent].self, throwing: (any Error).self)
        let timeout = configuration.connectTimeout.components
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(timeout.seconds) + .nanoseconds(timeout.attoseconds / 1_000_000_000))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplicaLinkHandler(
                        protocolState: state, handshake: bytes, acknowledgement: acknowledgement,
                        deliver: { continuation.yield($0) },
                        fail: { continuation.finish(throwing: $0) }))
                }
            }
        let channel: any Channel
        do {
            switch configuration.endpoint {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            throw ReplicaLinkError(.notReady, "cannot connect to \(master) for a replica link: \(error)")
        }
        continuation.onTermination = { _ in channel.close(promise: nil) }
        return ReplicaLink(events: events, master: master, channel: channel)
    }

    /// Tells the master at once that everything before `offset` is archived (a client
    /// waiting in `WAIT` is released now rather than at the next periodic ACK).
    public func acknowledge(_ offset: Int) {
        channel.writeAndFlush(ReplicaProtocol.ack(offset), promise: nil)
    }

    /// Closes the link (the master sees the replica go).
    public func close() async {
        try? await channel.close()
    }
}
