import NIOCore
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RedisClientError {
    /// A failed TLS handshake with `endpoint`, saying which failure it was: an unknown CA,
    /// an expired certificate, a name mismatch, a server that does not speak TLS, a
    /// refused client certificate, or no handshake answer in time.
    static func tlsHandshake(_ error: any Error, endpoint: RedisEndpoint, expectedName: String?) -> RedisClientError {
        let failure = error as? TLSHandshakeWatcher.Failure
        let cause: any Error = failure?.error ?? error
        let reason: String
        switch cause {
        case let timeout as TLSHandshakeWatcher.TimedOut:
            reason = "no TLS answer within \(RedisChannelHandler.format(timeout.timeout)): the server may not speak TLS on this port (a plain port?)"
        case is TLSHandshakeWatcher.ClosedDuringHandshake:
            reason = "the server closed the connection during the handshake: it may not speak TLS on this port, or it wants a client certificate (--cert FILE --key FILE)"
        case let extra as NIOSSLExtraError where extra == .failedToValidateHostname:
            reason = "name mismatch: the server's certificate does not name \(expectedName ?? "this host"); connect by a name it lists, or give that name with --sni NAME"
        case let ssl as NIOSSLError:
            reason = describe(ssl, failure: failure)
        default:
            reason = describeIOError(cause)
        }
        return RedisClientError(.tlsFailed, "TLS handshake with \(endpoint) failed: \(reason)", endpoint: endpoint,
                                underlying: cause)
    }

    static func describe(_ error: NIOSSLError, failure: TLSHandshakeWatcher.Failure?) -> String {
        switch error {
        case .uncleanShutdown:
            return "the server closed the connection during the handshake: it may not speak TLS on this port, or it wants a client certificate (--cert FILE --key FILE)"
        case .handshakeFailed(let boring):
            let text = "\(boring)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                let now = Int(time(nil))
                if let notAfter = failure?.notValidAfter, notAfter < now {
                    return "expired certificate: the server's certificate expired on \(utcDate(notAfter))"
                }
                if let notBefore = failure?.notValidBefore, notBefore > now {
                    return "certificate not yet valid: the server's certificate is valid from \(utcDate(notBefore))"
                }
                if failure?.notValidAfter == nil {
                    return "the server's certificate could not be verified (unknown CA or expired certificate; give the CA with --cacert FILE)"
                }
                return "unknown CA: the server's certificate is not signed by a CA this client trusts (give it with --cacert FILE or --cacertdir DIR)"
            }
            for mark in ["WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST", "UNEXPECTED_RECORD", "RECORD_TOO_LARGE"]
            where text.contains(mark) {
                return "the server does not speak TLS on this port (its answer is not a TLS handshake; use redis:// without --tls)"
            }
            for mark in ["ALERT_UNKNOWN_CA", "ALERT_BAD_CERTIFICATE", "CERTIFICATE_REQUIRED", "ALERT_HANDSHAKE_FAILURE"]
            where text.contains(mark) {
                return "the server refused this client's certificate, or wants one (--cert FILE --key FILE): \(text)"
            }
            return text
        default:
            return "\(error)"
        }
    }

    /// `2026-01-31 12:00:00 UTC`.
    private static func utcDate(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        var bytes = [CChar](repeating: 0, count: 32)
        let n = strftime(&bytes, bytes.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: bytes.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
