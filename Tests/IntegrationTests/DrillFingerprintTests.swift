import Foundation
import RESP
import RedisClient
import Testing

@testable import Operations

/// The drill's key fingerprints: decoded DUMP payloads digested canonically, so the same
/// data in another encoding (a hash table shrunk back to a few fields, and a fresh
/// listpack) is the same fingerprint, and any change of value, type or expiry is not.
@Suite(.serialized) struct DrillFingerprintTests {
    @Test func theSameDataInAnotherEncodingHasTheSameFingerprint() async throws {
        try await withLab { lab in
            let server = try await lab.start("fingerprints")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            // Grown past the listpack limits (set low here: packagers change them), then
            // shrunk: still hash tables / skiplists.
            _ = try await c.pipeline([["CONFIG", "SET", "hash-max-listpack-entries", "64"], ["CONFIG", "SET", "zset-max-listpack-entries", "64"]])
            for i in 0..<300 {
                _ = try await c.pipeline([["HSET", "grown-hash", .string("f\(i)"), "v"], ["ZADD", "grown-zset", .string(String(i)), .string("m\(i)")],
                                          ["SADD", "grown-set", .string("s\(i)")]])
            }
            for i in 2..<300 {
                _ = try await c.pipeline([["HDEL", "grown-hash", .string("f\(i)")], ["ZREM", "grown-zset", .string("m\(i)")],
                                          ["SREM", "grown-set", .string("s\(i)")]])
            }
            _ = try await c.pipeline([["HSET", "fresh-hash", "f1", "v", "f0", "v"], ["ZADD", "fresh-zset", "1", "m1", "0", "m0"],
                                      ["SADD", "fresh-set", "s1", "s0"], ["SET", "other-value", "v"], ["HSET", "other-hash", "f0", "v", "f1", "w"]])
            let encodings = try await c.pipeline([["OBJECT", "ENCODING", "grown-hash"], ["OBJECT", "ENCODING", "fresh-hash"],
                                                  ["OBJECT", "ENCODING", "grown-zset"], ["OBJECT", "ENCODING", "fresh-zset"]]).map { $0.string ?? "" }
            #expect(encodings == ["hashtable", "listpack", "skiplist", "listpack"], "the test needs two encodings")

            let keys = try await KeySpaceReader(connection: c).read().keys
            func print(_ name: String) throws -> KeyFingerprint { try #require(keys[DrillKey(database: 0, key: Array(name.utf8))]) }
            let dumps = try await c.pipeline([["DUMP", "grown-hash"], ["DUMP", "fresh-hash"]]).map { $0.bytes.map { Array($0.readableBytesView) } }
            #expect(dumps[0] != dumps[1], "the DUMP bytes differ")
            for type in ["hash", "zset", "set"] {
                let grown = try print("grown-\(type)"), fresh = try print("fresh-\(type)")
                #expect(grown == fresh, "\(type): \(grown) vs \(fresh)")
                #expect(grown.type == type)
            }
            #expect(try print("other-hash").digest != print("fresh-hash").digest, "another value, another digest")
            #expect(try print("other-value").type == "string")
            await c.close()
        }
    }
}
