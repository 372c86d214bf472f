import Foundation
import NIOCore
import RESP
import RedisClient

/// Reads every key of a server as ``KeyFingerprint``s: per database (those `INFO
/// keyspace` lists), `SCAN` in batches, each batch's `DUMP` and `PTTL` in one pipeline.
/// The connection's database is changed with `SELECT`: give it a connection of its own.
struct KeySpaceReader {
    let connection: RedisConnection
    /// Keys per SCAN and per pipeline.
    var batch = 500
    /// Stop (returning `complete: false`) when this instant passes between batches.
    var deadline: ContinuousClock.Instant?

    /// Every key's fingerprint, and whether the read finished before the deadline.
    func read() async throws(RedisClientError) -> (keys: [DrillKey: KeyFingerprint], complete: Bool) {
        var keys: [DrillKey: KeyFingerprint] = [:]
        for database in try await databases() {
            _ = try await connection.send(["SELECT", .string(String(database))])
            var cursor = "0"
            repeat {
                if let deadline, ContinuousClock.now >= deadline { return (keys, false) }
                let reply = try await connection.send(["SCAN", .string(cursor), "COUNT", .string(String(batch))])
                guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let names = parts[1].elements else {
                    throw RedisClientError(.unexpectedReply, "\(connection.endpoint) answered SCAN with an unexpected reply", endpoint: connection.endpoint, command: "SCAN")
                }
                cursor = next
                try await fingerprint(names.compactMap { $0.bytes.map { Array($0.readableBytesView) } }, database: database, into: &keys)
            } while cursor != "0"
        }
        return (keys, true)
    }

    /// The databases holding keys, from `INFO keyspace`.
    func databases() async throws(RedisClientError) -> [Int] {
        try await connection.info("keyspace").keyspace.filter { $0.value > 0 }.keys.sorted()
    }

    /// Keys in all databases, from `INFO keyspace`.
    func keyCount() async throws(RedisClientError) -> Int {
        try await connection.info("keyspace").totalKeys
    }

    /// DUMP and PTTL of `names`, pipelined; a key gone in between (DUMP nil, PTTL -2) is skipped.
    func fingerprint(_ names: [[UInt8]], database: Int, into keys: inout [DrillKey: KeyFingerprint]) async throws(RedisClientError) {
        guard !names.isEmpty else { return }
        var commands: [RESPCommand] = []
        commands.reserveCapacity(names.count * 2)
        for name in names {
            let key = RESPArgument.bytes(ByteBuffer(bytes: name))
            commands.append(["DUMP", key])
            commands.append(["PTTL", key])
        }
        let replies = try await connection.pipeline(commands)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (i, name) in names.enumerated() {
            let dump = replies[2 * i], ttl = replies[2 * i + 1]
            if let message = dump.errorMessage ?? ttl.errorMessage {
                let command = dump.isError ? "DUMP" : "PTTL"
                throw RedisClientError(.serverError, "\(connection.endpoint) answered \(command) with an error: \(message)", serverMessage: message,
                                       endpoint: connection.endpoint, command: command)
            }
            guard let payload = dump.bytes, let remaining = ttl.int, remaining != -2 else { continue }
            let expiresAt: Int64? = remaining >= 0 ? now + Int64(remaining) : nil
            keys[DrillKey(database: database, key: name)] = KeyFingerprint.of(payload: Array(payload.readableBytesView), key: name, expiresAtMs: expiresAt)
        }
    }
}
