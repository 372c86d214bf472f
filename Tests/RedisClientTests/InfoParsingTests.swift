import RedisClient
import Testing

@Suite struct InfoParsingTests {
    static let text = """
        # Server\r
        redis_version:7.0.15\r
        executable:/usr/bin/redis-server\r
        config_file:\r
        \r
        # Persistence\r
        aof_enabled:1\r
        aof_rewrite_in_progress:0\r
        mem_fragmentation_ratio:1.25\r
        \r
        # Replication\r
        role:master\r
        connected_slaves:2\r
        slave0:ip=127.0.0.1,port=7001,state=online,offset=1234,lag=0\r
        slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=3\r
        master_replid:8f1e0c\r
        \r
        # Keyspace\r
        db0:keys=12,expires=1,avg_ttl=500\r

        """

    @Test func sectionsAndTypedFields() throws {
        let info = RedisInfo(parsing: Self.text)
        #expect(info.sections.map(\.name) == ["server", "persistence", "replication", "keyspace"])
        #expect(info.string("redis_version") == "7.0.15")
        #expect(info["redis_version"] == .string("7.0.15"))
        #expect(info.int("aof_rewrite_in_progress") == 0)
        #expect(info["mem_fragmentation_ratio"] == .double(1.25))
        #expect(info.string("executable") == "/usr/bin/redis-server")
        #expect(info.string("config_file") == "")
        #expect(info["db0"]?["keys"] == "12")
        #expect(info.section("persistence")?.count == 3)
        #expect(info.section("nope") == nil)
    }

    @Test func replicasAreListed() {
        let replicas = RedisInfo(parsing: Self.text).replicas
        #expect(replicas.count == 2)
        #expect(replicas[0].port == 7001 && replicas[0].state == "online" && replicas[0].offset == 1234)
        #expect(replicas[1].state == "wait_bgsave" && replicas[1].lag == 3)
    }
}
