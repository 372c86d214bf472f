import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Words for a socket-level failure: "connection refused", "timed out after 5s",
/// "host not found". Lower-case, so they read well after "cannot connect to H: ".
func describeIOError(_ error: any Error) -> String {
    if let io = error as? IOError { return errnoText(io.errnoCode) }
    // TLS errors after the handshake (TLS 1.3 servers refuse a client certificate then).
    if let tls = error as? NIOSSLError { return "TLS: " + RedisClientError.describe(tls, failure: nil) }
    if let tls = error as? BoringSSLError { return "TLS: " + RedisClientError.describe(.handshakeFailed(tls), failure: nil) }
    if let connection = error as? NIOConnectionError {
        if let first = connection.connectionErrors.first { return describeIOError(first.error) }
        if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "host not found" }
        return "no address to connect to"
    }
    if let channel = error as? ChannelError {
        switch channel {
        case .connectTimeout(let t): return "timed out after \(RedisChannelHandler.format(t))"
        case .ioOnClosedChannel, .alreadyClosed, .eof: return "connection closed"
        default: return "\(channel)"
        }
    }
    if error is NIOConnectionError || "\(type(of: error))".contains("Resolution") { return "host not found" }
    return "\(error)"
}

func errnoText(_ code: Int32) -> String {
    let text = String(cString: strerror(code))
    return text.prefix(1).lowercased() + text.dropFirst()
}
