import Operations
import RedisClient
import RESP

let lab = try Lab()
do {
    let m = try await lab.start("master", LocalServerOptions(appendOnly: true))
    let r = try await lab.start("r1", LocalServerOptions(replicaOf: "master"))
    print(m, r)
    let c = try await RedisConnection.connect(m.connectionConfiguration)
    print(try await c.send(["SET", "k", "v"]), try await c.send(["GET", "k"]))
    let replies = try await c.pipeline((0..<10000).map { RESPCommand("SET", "k\($0)", "v\($0)") })
    print(replies.count, replies.last!)
    let info = try await c.info()
    print(info.string("redis_version")!, info.replicas)
    do { _ = try await c.send(["LPUSH", "k", "x"]) } catch { print(error) }
    do { _ = try await RedisConnection.connect(.init(endpoint: .tcp(host: "127.0.0.1", port: 1))) } catch { print(error) }
    var cfg3 = m.connectionConfiguration; cfg3.protocolVersion = 3
    let c3 = try await RedisConnection.connect(cfg3)
    print(try await c3.send(["HSET", "h", "a", "1"]), try await c3.send(["HGETALL", "h"]))
} catch { print("ERROR", error) }
await lab.shutdown()
print(ProcessRegistry.shared.running)
