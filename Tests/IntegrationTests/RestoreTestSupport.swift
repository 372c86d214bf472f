import Foundation
import Operations
import RESP
import RedisClient

/// What the restore tests compare: every key of databases 0 and 1 with its type, value
/// (collections sorted where Redis does not order them) and whether it has a TTL.
func restoreContents(_ connection: RedisConnection) async throws -> [String: String] {
    var result: [String: String] = [:]
    for db in [0, 1] {
        _ = try await connection.send(["SELECT", .string(String(db))])
        var cursor = "0"
        repeat {
            let reply = try await connection.send(["SCAN", .string(cursor), "COUNT", "500"])
            cursor = reply.elements![0].string!
            for keyValue in reply.elements![1].elements! {
                let key = keyValue.string!
                let type = try await connection.send(["TYPE", .string(key)]).string!
                let value: String
                switch type {
                case "string": value = try await connection.send(["GET", .string(key)]).string ?? ""
                case "list": value = try await connection.send(["LRANGE", .string(key), "0", "-1"]).elements!.map { $0.string! }.joined(separator: ",")
                case "hash":
                    let flat = try await connection.send(["HGETALL", .string(key)])
                    let pairs = flat.elements.map { e in stride(from: 0, to: e.count, by: 2).map { "\(e[$0].string!)=\(e[$0 + 1].string!)" } }
                        ?? flat.mapPairs()
                    value = pairs.sorted().joined(separator: ",")
                case "set": value = try await connection.send(["SMEMBERS", .string(key)]).elements!.map { $0.string! }.sorted().joined(separator: ",")
                case "zset": value = try await connection.send(["ZRANGE", .string(key), "0", "-1", "WITHSCORES"]).elements!.map { $0.string ?? "\($0)" }.joined(separator: ",")
                default: value = "?"
                }
                let ttl = try await connection.send(["PTTL", .string(key)]).int ?? -1
                result["\(db):\(key)"] = "\(type)|\(value)|\(ttl > 0 ? "ttl" : "persistent")"
            }
        } while cursor != "0"
    }
    _ = try await connection.send(["SELECT", "0"])
    return result
}

extension RESPValue {
    /// A RESP3 map reply as `field=value` pairs.
    func mapPairs() -> [String] {
        if case .map(let pairs) = self { return pairs.map { "\($0.key.string ?? "")=\($0.value.string ?? "")" } }
        return []
    }
}

/// Sleeps until the wall clock's fraction of a second is `fraction` (in the next second
/// when it has passed), so writes stay clear of second boundaries and their #TS second is
/// known.
func sleepUntilFraction(_ fraction: Double) async throws {
    let now = Date().timeIntervalSince1970
    var wait = fraction - (now - now.rounded(.down))
    if wait < 0 { wait += 1 }
    try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
}

/// The current unix second.
func currentSecond() -> Int64 { Int64(Date().timeIntervalSince1970.rounded(.down)) }

/// A fresh folder inside the Lab's temporary folder, removed with it when the test ends.
func restoreTemporaryFolder(_ label: String, in lab: Lab) throws -> String {
    let folder = lab.root + "/\(label)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}
