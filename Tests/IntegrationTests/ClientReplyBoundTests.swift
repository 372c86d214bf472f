import Foundation
import RESP
import RedisClient
import Testing

/// A hostile peer (not Redis) that announces `*2147483647` and streams `:1` forever: what
/// one reply may buffer is bounded, and the error names the byte offset.
@Suite struct ClientReplyBoundTests {
    @Test func endlessReplyStopsAtTheBound() async throws {
        let peer = try EndlessReplyPeer()
        var configuration = RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port))
        configuration.maxReplyBytes = 1 << 20
        let c = try await RedisConnection.connect(configuration)
        let error = try await #require(throws: RedisClientError.self) { try await c.send(["LRANGE", "k", "0", "-1"]) }
        #expect(error.kind == .protocolError)
        #expect(error.message == "malformed reply from 127.0.0.1:\(peer.port): malformed RESP at byte offset 1048576: a message longer than the limit of 1048576 bytes")
        #expect((error.underlying as? RESPDecodingError)?.offset == 1 << 20)
        // The connection is done with: later requests fail with the same error at once.
        let after = try await #require(throws: RedisClientError.self) { try await c.send(["PING"]) }
        #expect(after == error)
    }

    @Test func theShellsConnectTakesTheBound() async throws {
        let peer = try EndlessReplyPeer()
        let run = try RedkeepBinaryTests.redkeep(["-c", """
            connect hostile 127.0.0.1:\(peer.port) --max-reply-size 64kb
            GET k
            """])
        #expect(run.status == 2)
        #expect(run.err.contains("malformed RESP at byte offset 65536: a message longer than the limit of 65536 bytes"), "\(run.err)")
    }
}

/// Accepts one connection, reads a request, answers `*2147483647\r\n` and then `:1\r\n`
/// until the client goes away.
final class EndlessReplyPeer: Sendable {
    let port: Int

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(listener, sa, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, sa, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            defer { close(listener) }
            // Every command may come next: the handshake sends none for RESP2 without a password.
            for _ in 0..<2 {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var request = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &request, request.count)
                var chunk = Array("*2147483647\r\n".utf8)
                let element = Array(":1\r\n".utf8)
                // Bounded so the peer cannot run forever if the client never stops it: 64 MB.
                for _ in 0..<(64 * 1024 * 1024 / (4096 * element.count)) {
                    for _ in 0..<4096 { chunk += element }
                    let sent = chunk.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if sent < 0 { break }
                    chunk.removeAll(keepingCapacity: true)
                }
                close(client)
            }
        }
    }
}
