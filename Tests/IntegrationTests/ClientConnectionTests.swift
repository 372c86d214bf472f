import Foundation
import NIOCore
import Operations
import RESP
import RedisClient
import Testing

/// Authentication, unix sockets, timeouts and broken connections.
@Suite struct ClientConnectionTests {
    @Test func authenticatesAsAnACLUserWithoutLeakingThePassword() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let admin = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await admin.send(["ACL", "SETUSER", "alice", "on", ">s3cret-pw", "~app:*", "+@all"])
            await admin.close()

            let alice = try await RedisConnection.connect(try RedisConnectionConfiguration(url: "redis://alice:s3cret-pw@127.0.0.1:\(server.port)"))
            #expect(try await alice.send(["ACL", "WHOAMI"]) == .bulk("alice"))
            _ = try await alice.send(["SET", "app:x", "1"])
            // The ACL limits keys: proof we really are alice, not the default user.
            #expect(try await alice.reply(to: ["SET", "other", "1"]).errorMessage?.hasPrefix("NOPERM") == true)
            await alice.close()

            // The password may come from the environment instead of the URL.
            let secret = try #require(RedisSecret.fromEnvironment("TEST_PW", environment: ["TEST_PW": "s3cret-pw"]))
            let fromEnv = try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: server.endpoint, username: "alice", password: secret))
            #expect(try await fromEnv.send(["ACL", "WHOAMI"]) == .bulk("alice"))
            await fromEnv.close()

            // RESP3: AUTH inside HELLO.
            var hello = RedisConnectionConfiguration(endpoint: server.endpoint, username: "alice", password: secret)
            hello.protocolVersion = 3
            let viaHello = try await RedisConnection.connect(hello)
            #expect(try await viaHello.send(["ACL", "WHOAMI"]) == .bulk("alice"))
            await viaHello.close()

            for version in [2, 3] {
                var wrong = RedisConnectionConfiguration(endpoint: server.endpoint, username: "alice", password: RedisSecret("not-it"))
                wrong.protocolVersion = version
                let error = try await #require(throws: RedisClientError.self) { try await RedisConnection.connect(wrong) }
                #expect(error.kind == .authenticationFailed)
                #expect(error.message.contains("authentication as user \"alice\" failed at 127.0.0.1:\(server.port)"))
                #expect(!error.message.contains("not-it"))
                #expect(!"\(wrong.password!)".contains("not-it"))
            }
        }
    }

    @Test func connectsOverTheUnixSocket() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .unix(path: server.unixSocket)))
            #expect(try await c.ping() == "PONG")
            let viaURL = try await RedisConnection.connect(try RedisConnectionConfiguration(url: "unix://\(server.unixSocket)?db=1"))
            _ = try await viaURL.send(["SET", "u", "1"])
            #expect(try await c.send(["EXISTS", "u"]) == .integer(0))
            await c.close()
            await viaURL.close()
        }
    }

    @Test func refusedConnectionSaysWhereAndWhy() async throws {
        let port = try freePortForTest()
        let error = try await #require(throws: RedisClientError.self) {
            try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: port)))
        }
        #expect(error.kind == .connectFailed)
        #expect(error.message == "cannot connect to 127.0.0.1:\(port): connection refused")
        let missingSocket = try await #require(throws: RedisClientError.self) {
            try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .unix(path: "/nonexistent/redis.sock")))
        }
        #expect(missingSocket.message.hasPrefix("cannot connect to /nonexistent/redis.sock: "))
    }

    @Test func commandTimeoutClosesTheConnection() async throws {
        // A peer that takes the request and never answers.
        let peer = try MisbehavingPeer(reply: [], holdOpen: true)
        var configuration = RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port))
        configuration.commandTimeout = .milliseconds(300)
        let c = try await RedisConnection.connect(configuration)
        let error = try await #require(throws: RedisClientError.self) { try await c.send(["GET", "k"]) }
        #expect(error.kind == .timeout)
        #expect(error.message == "no reply from 127.0.0.1:\(peer.port) to GET within 300ms; connection closed")
        #expect(error.endpoint == .tcp(host: "127.0.0.1", port: peer.port) && error.command == "GET")
        // Later requests fail at once rather than reading the stale reply.
        let after = try await #require(throws: RedisClientError.self) { try await c.send(["PING"]) }
        #expect(after.kind == .timeout || after.kind == .connectionClosed)
    }

    @Test func serverClosingMidReplyIsReported() async throws {
        // A peer that answers with half a bulk string and hangs up.
        let peer = try MisbehavingPeer(reply: Array("$10\r\nabc".utf8))
        let c = try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port)))
        let error = try await #require(throws: RedisClientError.self) { try await c.send(["GET", "k"]) }
        #expect(error.kind == .connectionClosed)
        #expect(error.message == "connection to 127.0.0.1:\(peer.port) closed by the server while waiting for a reply to GET, after 8 bytes of an incomplete reply")
    }

    @Test func commandSentEncodedIsNamedInErrors() async throws {
        let peer = try MisbehavingPeer(reply: Array("$10\r\nabc".utf8))
        let c = try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port)))
        var encoded = ByteBuffer()
        encoded.writeRESPCommand(["hget", "h", "f"])
        let error = try await #require(throws: RedisClientError.self) { try await c.reply(toEncoded: encoded) }
        #expect(error.message == "connection to 127.0.0.1:\(peer.port) closed by the server while waiting for a reply to HGET, after 8 bytes of an incomplete reply")
    }

    @Test func malformedReplyIsAProtocolErrorWithOffset() async throws {
        let peer = try MisbehavingPeer(reply: Array("+OK\r\n?what\r\n".utf8), holdOpen: true)
        let c = try await RedisConnection.connect(RedisConnectionConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port)))
        let replies = try await #require(throws: RedisClientError.self) { try await c.pipeline([["PING"], ["PING"]]) }
        #expect(replies.kind == .protocolError)
        #expect(replies.message == "malformed reply from 127.0.0.1:\(peer.port): malformed RESP at byte offset 5: unknown RESP type byte 0x3F '?'")
    }

    @Test func serverKilledMidCommandFailsPendingRequests() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let blocked = Task { try await c.send(["BLPOP", "nothing", "10"]) }
            try await Task.sleep(for: .milliseconds(200))
            try await lab.crash("m")
            let error = await #expect(throws: RedisClientError.self) { _ = try await blocked.value }
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true)
            #expect(!c.isOpen)
        }
    }
}

/// A TCP peer that is not Redis: it reads one request, sends fixed bytes and (unless told
/// to hold the connection) closes. It stands for a broken server or network, not for Redis.
final class MisbehavingPeer: Sendable {
    let port: Int
    private let listener: Int32

    init(reply: [UInt8], holdOpen: Bool = false) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        _ = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            var request = [UInt8](repeating: 0, count: 4096)
            _ = read(client, &request, request.count)
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            if holdOpen { usleep(2_000_000) }
            close(client)
            close(fd)
        }
    }
}

func freePortForTest() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
