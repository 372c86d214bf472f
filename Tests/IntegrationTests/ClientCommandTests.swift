import NIOCore
import Operations
import RESP
import RedisClient
import Testing

/// Commands and replies of every type, against a real redis-server started by the Lab.
@Suite struct ClientCommandTests {
    @Test func repliesOfEveryRESP2Type() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            defer { Task { await c.close() } }
            #expect(try await c.send(["SET", "k", "v"]) == .simple("OK"))
            #expect(try await c.send(["GET", "k"]) == .bulk("v"))
            #expect(try await c.send(["GET", "missing"]) == .null)
            #expect(try await c.send(["INCRBY", "n", "41"]) == .integer(41))
            #expect(try await c.send(["RPUSH", "l", "a", "b", "c"]) == .integer(3))
            #expect(try await c.send(["LRANGE", "l", "0", "-1"]) == .array([.bulk("a"), .bulk("b"), .bulk("c")]))
            #expect(try await c.send(["LRANGE", "none", "0", "-1"]) == .array([]))
            // Binary-safe values survive the round trip.
            var binary = ByteBuffer()
            binary.writeBytes([0, 13, 10, 255, 36, 42])
            _ = try await c.send(RESPCommand([.string("SET"), .string("bin"), .bytes(binary)]))
            #expect(try await c.send(["GET", "bin"]) == .bulkString(binary))
            // An error reply comes back as a value from reply(to:).
            let wrong = try await c.reply(to: ["LPUSH", "k", "x"])
            #expect(wrong.errorMessage?.hasPrefix("WRONGTYPE") == true)
        }
    }

    @Test func errorRepliesThrowNamingServerAndCommand() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["SET", "k", "v"])
            let error = try await #require(throws: RedisClientError.self) { try await c.send(["LPUSH", "k", "x"]) }
            #expect(error.kind == .serverError)
            #expect(error.serverErrorCode == "WRONGTYPE")
            #expect(error.message.hasPrefix("127.0.0.1:\(server.port) answered LPUSH with an error: WRONGTYPE"))
            // The connection is still usable after an error reply.
            #expect(try await c.send(["GET", "k"]) == .bulk("v"))
            await c.close()
        }
    }

    @Test func resp3TypesThroughHello3() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            var configuration = server.connectionConfiguration
            configuration.protocolVersion = 3
            let c = try await RedisConnection.connect(configuration)
            defer { Task { await c.close() } }
            // HELLO's reply is a map naming the protocol.
            let hello = try #require(c.hello)
            guard case .map(let pairs) = hello else { Issue.record("HELLO reply is not a map: \(hello)"); return }
            #expect(pairs.contains { $0.key == .bulk("proto") && $0.value == .integer(3) })

            _ = try await c.send(["HSET", "h", "f", "1"])
            #expect(try await c.send(["HGETALL", "h"]) == .map([RESPPair(key: .bulk("f"), value: .bulk("1"))]))
            _ = try await c.send(["SADD", "s", "x"])
            #expect(try await c.send(["SMEMBERS", "s"]) == .set([.bulk("x")]))
            _ = try await c.send(["ZADD", "z", "2.5", "m"])
            #expect(try await c.send(["ZSCORE", "z", "m"]) == .double(2.5))
            #expect(try await c.send(["GET", "nothing"]) == .null)
            #expect(try await c.send(["EVAL", "redis.setresp(3); return true", "0"]) == .boolean(true))
            #expect(try await c.send(["EVAL", "redis.setresp(3); return {big_number='123456789012345678901234567890'}", "0"])
                    == .bigNumber("123456789012345678901234567890"))
            // INFO is a verbatim string in RESP3; it still parses.
            let info = try await c.info("server")
            #expect(info.string("redis_version") != nil || info.string("valkey_version") != nil)
            let raw = try await c.send(["INFO", "server"])
            guard case .verbatimString(let format, _) = raw else { Issue.record("INFO is not verbatim: \(raw)"); return }
            #expect(format == "txt")
        }
    }

    @Test func pipelineOfTenThousandCommands() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            defer { Task { await c.close() } }
            let sets = (0..<10_000).map { RESPCommand("SET", "key:\($0)", "value:\($0)") }
            let replies = try await c.pipeline(sets)
            #expect(replies.count == 10_000)
            #expect(replies.allSatisfy { $0 == .simple("OK") })
            let gets = (0..<10_000).map { RESPCommand("GET", "key:\($0)") }
            let values = try await c.pipeline(gets)
            #expect(values == (0..<10_000).map { .bulk("value:\($0)") })
            // Error replies inside a pipeline are values in their place.
            let mixed = try await c.pipeline([["INCR", "counter"], ["LPUSH", "key:1", "x"], ["INCR", "counter"]])
            #expect(mixed[0] == .integer(1))
            #expect(mixed[1].isError)
            #expect(mixed[2] == .integer(2))
            #expect(try await c.send(["DBSIZE"]) == .integer(10_001))
        }
    }

    @Test func pipelineCountingErrorsCountsAndKeepsTheFirstMessages() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            defer { Task { await c.close() } }
            _ = try await c.send(["LPUSH", "list", "x"])
            // 30 commands: every third one (2, 5, 8...) is an INCR of a list, an error.
            var bytes = ByteBuffer()
            var expectedErrors: [Int] = []
            for i in 0..<30 {
                if i % 3 == 2 {
                    bytes.writeRESPCommand(["INCR", "list"])
                    expectedErrors.append(i)
                } else {
                    bytes.writeRESPCommand(RESPCommand("SET", "k:\(i)", "v"))
                }
            }
            let counted = try await c.pipelineCountingErrors(encoded: bytes, count: 30)
            #expect(counted.errors == 10)
            #expect(counted.firstErrors.map(\.index) == Array(expectedErrors.prefix(PipelineErrorCount.kept)))
            #expect(counted.firstErrors.allSatisfy { $0.message.hasPrefix("WRONGTYPE") })
            // Commands without errors count none; the connection goes on in step.
            var clean = ByteBuffer()
            for i in 0..<5 { clean.writeRESPCommand(RESPCommand("GET", "k:\(i)")) }
            let none = try await c.pipelineCountingErrors(encoded: clean, count: 5)
            #expect(none.errors == 0 && none.firstErrors.isEmpty)
            #expect(try await c.send(["GET", "k:0"]) == .bulk("v"))
            #expect(try await c.send(["DBSIZE"]) == .integer(21))
        }
    }

    @Test func concurrentSendersGetTheirOwnReplies() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            defer { Task { await c.close() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for i in 0..<200 {
                            let key = "w\(worker):\(i)"
                            _ = try await c.send(["SET", .string(key), .string(key)])
                            #expect(try await c.send(["GET", .string(key)]) == .bulk(key))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func infoIsParsedIntoTypedFields() async throws {
        try await withLab { lab in
            let master = try await lab.start("m")
            let replica = try await lab.start("r", LocalServerOptions(replicaOf: "m"))
            let c = try await RedisConnection.connect(master.connectionConfiguration)
            defer { Task { await c.close() } }
            let info = try await c.info()
            #expect(info.int("tcp_port") == master.port)
            #expect(info.string("role") == "master")
            #expect(info.int("connected_slaves") == 1)
            #expect(info.replicas.map(\.port) == [replica.port])
            #expect(info.section("persistence")?.contains { $0.name == "aof_enabled" } == true)
            _ = try await c.send(["SET", "a", "1"])
            let keyspace = try await c.info("keyspace")
            #expect(keyspace["db0"]?["keys"] == "1")
            let dir = try await c.configGet("dir")
            #expect(dir["dir"] == master.directory)
        }
    }

    @Test func selectsTheDatabaseFromTheURL() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c2 = try await RedisConnection.connect(try RedisConnectionConfiguration(url: "redis://127.0.0.1:\(server.port)/2"))
            _ = try await c2.send(["SET", "only-in-2", "yes"])
            let c0 = try await RedisConnection.connect(server.connectionConfiguration)
            #expect(try await c0.send(["EXISTS", "only-in-2"]) == .integer(0))
            _ = try await c0.send(["SELECT", "2"])
            #expect(try await c0.send(["GET", "only-in-2"]) == .bulk("yes"))
            let bad = try await #require(throws: RedisClientError.self) {
                try await RedisConnection.connect(try RedisConnectionConfiguration(url: "redis://127.0.0.1:\(server.port)/99"))
            }
            #expect(bad.message.contains("cannot select database 99 on 127.0.0.1:\(server.port)"))
            await c2.close()
            await c0.close()
        }
    }
}
