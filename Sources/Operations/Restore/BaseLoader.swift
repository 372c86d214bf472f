import AOF
import Foundation
import NIOCore
import RESP
import RedisClient

/// Loads a generation's base into a server through a connection: an AOF base as its
/// commands; an RDB base through a temporary local server that loads it as its dump, from
/// which every key is copied with DUMP, PTTL and RESTORE (with its TTL).
struct BaseLoader {
    let plan: RestorePlan
    let target: RedisConnection
    let lab: Lab?
    let window: Int

    /// Loads it and returns the number of keys (RDB) or commands (AOF) it held.
    func load() async throws(RestoreError) -> Int {
        try Self.verify(plan)
        if plan.generation.format == "aof" { return try await loadCommands() }
        return try await loadThroughTemporaryServer()
    }

    /// The base file must exist and match its sha256.
    static func verify(_ plan: RestorePlan) throws(RestoreError) { try plan.verifyBase() }

    private func loadCommands() async throws(RestoreError) -> Int {
        let path = plan.basePath
        let reader: AOFFileReader
        do { reader = try AOFFileReader(path: path) } catch { throw RestoreError("cannot read the base \(path): \(error)") }
        var sent = 0
        while true {
            var bytes = ByteBufferAllocator().buffer(capacity: 256 * 1024)
            var count = 0
            do {
                while count < window, let entry = try reader.next() {
                    guard entry.isCommand else { continue }
                    var b = entry.bytes
                    bytes.writeBuffer(&b)
                    count += 1
                }
            } catch {
                throw RestoreError("the base \(path) does not parse: \(error)")
            }
            if count == 0 { break }
            let counted: PipelineErrorCount
            do { counted = try await target.pipelineCountingErrors(encoded: bytes, count: count) } catch {
                throw RestoreError("the target \(target.endpoint) failed while loading the base (\(sent) of its commands sent): \(error)")
            }
            if let bad = counted.firstErrors.first {
                throw RestoreError("the target \(target.endpoint) refused a command of the base \(path): \(bad.message)")
            }
            sent += count
        }
        if reader.pendingBytes > 0 { throw RestoreError("the base \(path) ends inside a command at byte \(reader.offset)") }
        return sent
    }

    private func loadThroughTemporaryServer() async throws(RestoreError) -> Int {
        guard let lab else { throw RestoreError("the base \(plan.basePath) is an RDB file: loading it through a connection needs a temporary local redis-server (set REDKEEP_SERVER or install redis-server), and none is available") }
        let name = "restore-base-\(getpid())-\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        let folder = lab.root + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: plan.basePath, toPath: folder + "/dump.rdb")
        } catch {
            throw RestoreError("cannot place the base \(plan.basePath) in \(folder): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server: LocalServer
        do {
            // No saving: the temporary server must not rewrite the copy it reads.
            server = try await lab.start(name, LocalServerOptions(config: [("save", "")]))
        } catch {
            throw RestoreError("cannot start a temporary server to read the base \(plan.basePath): \(error.message)")
        }
        var source: RedisConnection?
        do {
            let connection = try await RedisConnection.connect(server.connectionConfiguration)
            source = connection
            let copied = try await copyKeys(from: connection)
            await connection.close()
            try? await lab.stop(name)
            return copied
        } catch {
            await source?.close()
            try? await lab.stop(name)
            if let error = error as? RestoreError { throw error }
            throw RestoreError("reading the base through the temporary server \(server.endpoint) failed: \(error)")
        }
    }

    /// SCAN every database of `source`, DUMP and PTTL each key, RESTORE it into the target.
    private func copyKeys(from source: RedisConnection) async throws -> Int {
        let info = try await source.info("keyspace")
        let databases = (info.section("keyspace") ?? []).compactMap { Int($0.name.dropFirst(2)) }.sorted()
        var copied = 0
        let batchSize = max(1, min(window, 1000))
        for db in databases {
            _ = try await source.send(["SELECT", .string(String(db))])
            var cursor = "0"
            repeat {
                let reply = try await source.send(["SCAN", .string(cursor), "COUNT", .string(String(batchSize))])
                guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let keys = parts[1].elements else {
                    throw RestoreError("unexpected SCAN reply from the temporary server")
                }
                cursor = next
                let names = keys.compactMap(\.bytes)
                guard !names.isEmpty else { continue }
                var reads: [RESPCommand] = []
                for key in names { reads.append(["DUMP", .bytes(key)]); reads.append(["PTTL", .bytes(key)]) }
                let values = try await source.pipeline(reads)
                var writes: [RESPCommand] = [["SELECT", .string(String(db))]]
                for (i, key) in names.enumerated() {
                    guard let payload = values[2 * i].bytes else { continue }  // expired or deleted meanwhile
                    let ttl = values[2 * i + 1].int ?? -1
                    if ttl == -2 { continue }
                    writes.append(["RESTORE", .bytes(key), .string(String(max(ttl, 0))), .bytes(payload), "REPLACE"])
                }
                let results: [RESPValue]
                do { results = try await target.pipeline(writes) } catch {
                    throw RestoreError("the target \(target.endpoint) failed while loading the base (\(copied) keys copied): \(error)")
                }
                if let bad = results.first(where: \.isError) {
                    throw RestoreError("the target \(target.endpoint) refused RESTORE of a base key: \(bad.errorMessage ?? "")")
                }
                copied += writes.count - 1
            } while cursor != "0"
        }
        return copied
    }
}
