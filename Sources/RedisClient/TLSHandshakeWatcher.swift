import NIOCore
import NIOSSL
import NIOTLS

/// Waits for the TLS handshake of a new connection, so that its failure is reported as
/// such (unknown CA, name mismatch, not TLS...) rather than as a closed connection at the
/// first command, and so that a server that never answers the handshake is given up
/// after the connect timeout. Sits right after the `NIOSSLClientHandler` and leaves the
/// pipeline once the handshake is done: replies do not pass through it.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// Why the handshake did not complete, with the validity period of the server's
    /// certificate when one arrived (to tell an expired certificate from an unknown CA).
    struct Failure: Error, Sendable {
        var error: any Error
        var notValidBefore: Int?
        var notValidAfter: Int?
    }
    /// No handshake within the timeout.
    struct TimedOut: Error, Sendable { let timeout: TimeAmount }
    /// The peer closed the connection before the handshake completed.
    struct ClosedDuringHandshake: Error, Sendable {}

    private let promise: EventLoopPromise<Void>
    private let timeout: TimeAmount
    /// A name given with `--sni` that the certificate must list as a DNS name. NIOSSL
    /// accepts a certificate naming the connected IP address whatever the SNI name says;
    /// redis-cli checks the name, and so does this.
    private let requiredName: String?
    private var timer: Scheduled<Void>?
    private var done = false

    init(promise: EventLoopPromise<Void>, timeout: TimeAmount, requiredName: String?) {
        self.promise = promise
        self.timeout = timeout
        self.requiredName = requiredName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let timeout = self.timeout
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.finish(.failure(Failure(error: TimedOut(timeout: timeout))))
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(.failure(Failure(error: ClosedDuringHandshake())))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted? = event as? TLSUserEvent {
            if let requiredName,
               let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate,
               !Self.certificate(certificate, names: requiredName) {
                finish(.failure(Failure(error: NIOSSLExtraError.failedToValidateHostname)))
                context.close(promise: nil)
                return
            }
            finish(.success(()))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
            finish(.failure(Failure(error: error,
                                    notValidBefore: certificate.map { Int($0.notValidBefore) },
                                    notValidAfter: certificate.map { Int($0.notValidAfter) })))
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(Failure(error: ClosedDuringHandshake())))
        context.fireChannelInactive()
    }

    /// Whether a DNS name of the certificate is `name`, or a wildcard (`*.example.com`)
    /// covering its first label.
    static func certificate(_ certificate: NIOSSLCertificate, names name: String) -> Bool {
        let wanted = name.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        for entry in certificate._subjectAlternativeNames() where entry.nameType == .dnsName {
            let listed = String(decoding: Array(entry.contents), as: UTF8.self).lowercased()
                .split(separator: ".", omittingEmptySubsequences: false)
            guard listed.count == wanted.count else { continue }
            if listed == wanted || (listed.first == "*" && listed.dropFirst() == wanted.dropFirst()) { return true }
        }
        return false
    }

    private func finish(_ result: Result<Void, Failure>) {
        guard !done else { return }
        done = true
        timer?.cancel()
        timer = nil
        promise.completeWith(result.mapError { $0 as any Error })
    }
}
