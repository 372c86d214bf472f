import NIOConcurrencyHelpers
import NIOCore
import RESP

/// The offset a replica link acknowledges: the collector raises it as chunks become
/// durable in the archive, and the link reports only that (`REPLCONF ACK`), so a
/// master's `WAIT` counts the collector only for writes already archived.
public final class ReplicaAcknowledgement: Sendable {
    private let durable = NIOLockedValueBox(0)

    public init(durableOffset: Int = 0) { durable.withLockedValue { $0 = durableOffset } }

    /// The replication offset up to which everything received is in the archive.
    public var durableOffset: Int { durable.withLockedValue { $0 } }

    /// Raises the durable offset (never lowers it); true when it rose.
    @discardableResult
    public func advance(to offset: Int) -> Bool {
        durable.withLockedValue { value in
            defer { value = max(value, offset) }
            return offset > value
        }
    }

    /// A full sync starts a history of its own: nothing of it is archived before its
    /// first offset, whatever the previous history reached.
    public func reset(to offset: Int) { durable.withLockedValue { $0 = offset } }
}

/// The channel handler of a replica link: sends the handshake when the connection is up,
/// feeds every read to a ``ReplicaProtocol``, answers `REPLCONF GETACK` at once, sends
/// `REPLCONF ACK` every `ackInterval` while streaming, and hands the events to `deliver`
/// (on the event loop, in order). A failure is delivered once through `fail`, then the
/// channel is closed. While `flow` is full it holds back the channel's reads (see
/// ``ReplicaFlow``); ``ReplicaLink/taken(_:)`` lets them through again.
final class ReplicaLinkHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var protocolState: ReplicaProtocol
    private let handshake: ByteBuffer
    private let acknowledgement: ReplicaAcknowledgement
    private let flow: ReplicaFlow
    private let ackInterval: TimeAmount
    private let deliver: ([ReplicaEvent]) -> Void
    private let fail: (any Error) -> Void
    private var pending: ByteBuffer?
    private var ackTask: RepeatedTask?
    private var failed = false

    init(protocolState: ReplicaProtocol, handshake: ByteBuffer, acknowledgement: ReplicaAcknowledgement,
         flow: ReplicaFlow = ReplicaFlow(), ackInterval: TimeAmount = .seconds(1), deliver: @escaping ([ReplicaEvent]) -> Void, fail: @escaping (any Error) -> Void) {
        self.protocolState = protocolState
        self.handshake = handshake
        self.acknowledgement = acknowledgement
        self.flow = flow
        self.ackInterval = ackInterval
        self.deliver = deliver
        self.fail = fail
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(handshake), promise: nil)
        if let due = protocolState.takeOutgoing() { context.write(wrapOutboundOut(due), promise: nil) }
        context.flush()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ackTask = context.eventLoop.scheduleRepeatedTask(initialDelay: ackInterval, delay: ackInterval) { _ in
            let (handler, context) = loopBound.value
            handler.sendAck(context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ackTask?.cancel()
        ackTask = nil
        report(ReplicaLinkError(.protocolViolation, "\(protocolState.master) closed the replica link (\(phase))"), context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        report(error, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var bytes = unwrapInboundIn(data)
        if var held = pending {
            held.writeBuffer(&bytes)
            bytes = held
        }
        let events: [ReplicaEvent]
        do { events = try protocolState.receive(&bytes) } catch {
            report(error, context: context)
            return
        }
        if bytes.readableBytes > 0 {
            bytes.discardReadBytes()
            pending = bytes
        } else {
            pending = nil
        }
        var answer = false
        // Nothing of a new history is archived before its base is: acknowledge none of it yet.
        if events.contains(where: { if case .fullResync = $0 { true } else { false } }) { acknowledgement.reset(to: 0) }
        for case .command(let command) in events where command.kind == .replconf(getAck: true) { answer = true }
        // Right after the RDB: a diskless master starts the stream only after a first ACK.
        if events.contains(.rdbEnd) { answer = true }
        if !events.isEmpty {
            flow.hold(events.reduce(0) { $0 + $1.heldBytes })
            deliver(events)
        }
        if let due = protocolState.takeOutgoing() { context.writeAndFlush(wrapOutboundOut(due), promise: nil) }
        if answer { sendAck(context: context) }
    }

    /// Reads only while the collector keeps up: a held read is let through by the
    /// `channel.read()` that ``ReplicaLink/taken(_:)`` makes once the flow has room.
    func read(context: ChannelHandlerContext) {
        guard !flow.isFull else { return }
        context.read()
    }

    private func sendAck(context: ChannelHandlerContext) {
        guard protocolState.isStreaming, !failed else { return }
        context.writeAndFlush(wrapOutboundOut(ReplicaProtocol.ack(acknowledgement.durableOffset)), promise: nil)
    }

    private var phase: String {
        switch protocolState.state {
        case .handshake, .psyncReply: "during the handshake"
        case .rdbHeader, .rdbSized, .rdbMarked: "during the full sync's RDB transfer: check client-output-buffer-limit replica on the master"
        case .streaming: "while streaming, at replication offset \(protocolState.offset)"
        case .failed: "after a failure"
        }
    }

    private func report(_ error: any Error, context: ChannelHandlerContext?) {
        guard !failed else { return }
        failed = true
        ackTask?.cancel()
        ackTask = nil
        fail(error)
        context?.close(promise: nil)
    }
}
