import RedisClient
import Testing

@Suite struct URLParsingTests {
    @Test func fullURL() throws {
        let c = try RedisConnectionConfiguration(url: "redis://alice:p%40ss@db.example:6390/3")
        #expect(c.endpoint == .tcp(host: "db.example", port: 6390))
        #expect(c.username == "alice")
        #expect(c.password?.revealed == "p@ss")
        #expect(c.database == 3)
    }

    @Test func defaultsAndShortForms() throws {
        let plain = try RedisConnectionConfiguration(url: "redis://localhost")
        #expect(plain.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(plain.username == nil && plain.password == nil && plain.database == 0)
        let passwordOnly = try RedisConnectionConfiguration(url: "redis://:pw@127.0.0.1:7000")
        #expect(passwordOnly.username == nil)
        #expect(passwordOnly.password?.revealed == "pw")
        let hostPort = try RedisConnectionConfiguration(url: "127.0.0.1:7000")
        #expect(hostPort.endpoint == .tcp(host: "127.0.0.1", port: 7000))
        let ipv6 = try RedisConnectionConfiguration(url: "redis://[::1]:7001")
        #expect(ipv6.endpoint == .tcp(host: "::1", port: 7001))
        #expect(ipv6.endpoint.description == "[::1]:7001")
        let socket = try RedisConnectionConfiguration(url: "/var/run/redis.sock")
        #expect(socket.endpoint == .unix(path: "/var/run/redis.sock"))
        let unixURL = try RedisConnectionConfiguration(url: "unix:///tmp/r.sock?db=4")
        #expect(unixURL.endpoint == .unix(path: "/tmp/r.sock"))
        #expect(unixURL.database == 4)
    }

    @Test func redissParsesLikeRedisWithTLS() throws {
        let c = try RedisConnectionConfiguration(url: "rediss://bob:hunter2@secure:6380/2")
        #expect(c.endpoint == .tcp(host: "secure", port: 6380))
        #expect(c.username == "bob")
        #expect(c.password?.revealed == "hunter2")
        #expect(c.database == 2)
        #expect(c.tls == RedisTLSConfiguration(verification: .full))
        #expect(try RedisConnectionConfiguration(url: "redis://secure:6380").tls == nil)
        let error = #expect(throws: RedisClientError.self) {
            try RedisConnectionConfiguration(url: "rediss://bob:hunter2@secure/abc")
        }
        #expect(error?.kind == .invalidAddress)
        #expect(error?.message.contains("rediss://bob:<secret>@secure/abc") == true)
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func badURLsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("redis://host:99999", "invalid port \"99999\""),
            ("redis://host:abc", "invalid port \"abc\""),
            ("redis://host/x", "invalid database \"x\""),
            ("http://host", "the scheme must be redis://"),
            ("redis://", "no host"),
            ("redis://[::1", "missing ']'"),
            ("redis://u:%zz@h", "invalid percent-encoding"),
        ]
        for (url, expected) in cases {
            let error = #expect(throws: RedisClientError.self, "\(url)") { try RedisConnectionConfiguration(url: url) }
            #expect(error?.kind == .invalidAddress)
            #expect(error?.message.contains(expected) == true, "\(url): \(error?.message ?? "")")
        }
    }

    @Test func redactionHidesPasswordsOnly() {
        #expect(RedisConnectionConfiguration.redacted("redis://u:pw@h:1/2") == "redis://u:<secret>@h:1/2")
        #expect(RedisConnectionConfiguration.redacted("redis://pw@h") == "redis://<secret>@h")
        #expect(RedisConnectionConfiguration.redacted("redis://h:1") == "redis://h:1")
        #expect("\(RedisSecret("x"))" == "<secret>")
        #expect(String(reflecting: RedisSecret("x")) == "<secret>")
    }
}
