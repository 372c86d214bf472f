import NIOCore
import NIOPosix
import RedisClient

/// One replication connection to a master: the handshake, then the RDB of a full sync
/// (or nothing, on `+CONTINUE`), then the command stream, as ``events``.
///
/// The link acknowledges only ``ReplicaAcknowledgement/durableOffset``, raised by its
/// owner as it archives. The stream ends (throwing ``ReplicaLinkError``) when the master
/// refuses, closes the link or sends what the protocol does not allow. It holds at most
/// about `flow.limit` bytes the owner has not taken (see ``taken(_:)``): beyond that it
/// stops reading and the master buffers.
public final class ReplicaLink: Sendable {
    /// The events, in the order the master sent them.
    public let events: AsyncThrowingStream<[ReplicaEvent], any Error>
    /// The master, `host:port`.
    public let master: String
    private let channel: any Channel
    private let flow: ReplicaFlow

    private init(events: AsyncThrowingStream<[ReplicaEvent], any Error>, master: String, channel: any Channel, flow: ReplicaFlow) {
        self.events = events
        self.master = master
        self.channel = channel
        self.flow = flow
    }

    /// Connects to the master of `configuration` (TLS when it says so; its user and
    /// password authenticate the link) and sends the handshake: PSYNC `resume` (the id and
    /// next offset) when given, else a full sync. `listeningPort` is what the master shows
    /// for this replica in INFO replication (the collector listens on none: 0 by default).
    public static func connect(_ configuration: RedisConnectionConfiguration, resume: (replicationId: String, offset: Int)?,
                               acknowledgement: ReplicaAcknowledgement, flow: ReplicaFlow = ReplicaFlow(), listeningPort: Int = 0,
                               group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ReplicaLink {
        let master = configuration.endpoint.description
        let (bytes, pending, psync) = ReplicaProtocol.handshake(user: configuration.username, password: configuration.password?.revealed,
                                                         listeningPort: listeningPort, resume: resume)
        let state = ReplicaProtocol(master: master, pending: pending, psync: psync, continuingAt: resume?.offset)
        let (events, continuation) = AsyncThrowingStream.makeStream(of: [ReplicaEvent].self, throwing: (any Error).self)
        flow.reset()
        let channel: any Channel
        do {
            channel = try await RedisConnection.openChannel(configuration, group: group, keepAlive: true) { channel, _ in
                try channel.pipeline.syncOperations.addHandler(ReplicaLinkHandler(
                    protocolState: state, handshake: bytes, acknowledgement: acknowledgement, flow: flow,
                    deliver: { continuation.yield($0) },
                    fail: { continuation.finish(throwing: $0) }))
            }
        } catch {
            continuation.finish()
            throw ReplicaLinkError(.notReady, "\(error.message) (for a replica link)")
        }
        continuation.onTermination = { _ in channel.close(promise: nil) }
        return ReplicaLink(events: events, master: master, channel: channel, flow: flow)
    }

    /// The owner took (archived or dropped) these events: their bytes no longer count
    /// against the flow's limit, and a read held back for room goes ahead.
    public func taken(_ events: [ReplicaEvent]) {
        if flow.release(events.reduce(0) { $0 + $1.heldBytes }) {
            let channel = self.channel
            channel.eventLoop.execute { channel.read() }
        }
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
