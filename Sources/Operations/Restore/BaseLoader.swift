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
    /// Checked between batches: a set flag ends the load early (the caller reports it).
    let stop: StopFlag
    let progress: (@Sendable (RestoreProgress) -> Void)?

    /// Loads it and returns the number of keys (RDB) or commands (AOF) the target
    /// acknowledged.
    func load() async throws(RestoreError) -> Int {
        switch plan.generation.format {
        case .aof: return try await loadCommands()
        case .rdb: return try await loadThroughTemporaryServer()
        }
    }

    private func loadCommands() async throws(RestoreError) -> Int {
        let path = plan.baseName
        let plan = self.plan
        let bytes: ByteBuffer
        do { bytes = try await ArchiveIO.run { () throws(ArchiveError) in try ArchiveObjectCheck.base(plan.generation, in: plan.index.store) } } catch {
            throw RestoreError(error)
        }
        let reader = AOFFileReader(bytes: bytes, name: path)
        var sent = 0
        while !stop.isSet {
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
                throw RestoreError(.damagedArchive, "the base \(path) does not parse: \(error)", underlying: error)
            }
            if count == 0 { break }
            let counted: PipelineErrorCount
            do { counted = try await target.pipelineCountingErrors(encoded: bytes, count: count) } catch {
                throw RestoreError(.target, "the target \(target.endpoint) failed while loading the base (\(sent) of its commands acknowledged): \(error)", underlying: error)
            }
            if let bad = counted.firstErrors.first {
                throw RestoreError(.target, "the target \(target.endpoint) refused a command of the base \(path): \(bad.message)")
            }
            sent += count
            progress?(RestoreProgress(phase: .base, done: reader.offset, total: plan.generation.size))
        }
        if !stop.isSet, reader.pendingBytes > 0 { throw RestoreError(.damagedArchive, "the base \(path) ends inside a command at byte \(reader.offset)") }
        return sent
    }

    private func loadThroughTemporaryServer() async throws(RestoreError) -> Int {
        guard let lab else { throw RestoreError(.invalidRequest, "the base \(plan.baseName) is an RDB file: loading it through a connection needs a temporary local redis-server (set REDKEEP_SERVER or install redis-server), and none is available") }
        let name = "restore-base-\(getpid())-\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        let folder = lab.root + "/" + name
        let plan = self.plan
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try await ArchiveIO.run { () throws(RestoreError) in try Self.copyBase(plan, to: folder + "/dump.rdb") }
        } catch let error as RestoreError {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        } catch {
            throw RestoreError(.destination, "cannot place the base \(plan.baseName) in \(folder): \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server: LocalServer
        do {
            // No saving: the temporary server must not rewrite the copy it reads.
            server = try await lab.start(name, LocalServerOptions(config: [("save", "")]))
        } catch {
            throw RestoreError(.invalidRequest, "cannot start a temporary server to read the base \(plan.baseName): \(error.message)", underlying: error)
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
            throw RestoreError(.target, "reading the base through the temporary server \(server.endpoint) failed: \(error)")
        }
    }

    /// Copies the base out of the archive (checking its size and sha256 on the way).
    static func copyBase(_ plan: RestorePlan, to path: String) throws(RestoreError) {
        let g = plan.generation
        let store = plan.index.store
        let digest: String
        do {
            digest = try DurableFile.write(to: path) { sink throws(DurableFile.WriteError) in
                var position = 0
                while position < g.size {
                    let piece: [UInt8]
                    do { piece = try store.read(g.path, range: position..<min(g.size, position + (4 << 20))) } catch {
                        throw DurableFile.WriteError(path: path, reason: "\(error)")
                    }
                    if piece.isEmpty { break }
                    try sink.append(piece)
                    position += piece.count
                }
            }
        } catch {
            throw RestoreError(.archiveUnavailable, "cannot copy the base \(plan.baseName): \(error)", underlying: error)
        }
        guard digest == g.sha256 else {
            throw RestoreError(.damagedArchive, "the base \(plan.baseName) does not match its sha256 or size; nothing applied")
        }
    }

    /// SCAN every database of `source`, DUMP and PTTL each key, RESTORE it into the target.
    private func copyKeys(from source: RedisConnection) async throws -> Int {
        let info = try await source.info("keyspace")
        let sections = info.section("keyspace") ?? []
        let databases = sections.compactMap { Int($0.name.dropFirst(2)) }.sorted()
        let total = sections.reduce(0) { total, field in
            total + (field.value.text.split(separator: ",").first { $0.hasPrefix("keys=") }.flatMap { Int($0.dropFirst(5)) } ?? 0)
        }
        progress?(RestoreProgress(phase: .base, done: 0, total: total))
        var copied = 0
        let batchSize = max(1, min(window, 1000))
        for db in databases where !stop.isSet {
            _ = try await source.send(["SELECT", .string(String(db))])
            var cursor = "0"
            repeat {
                let reply = try await source.send(["SCAN", .string(cursor), "COUNT", .string(String(batchSize))])
                guard let parts = reply.elements, parts.count == 2, let next = parts[0].string, let keys = parts[1].elements else {
                    throw RestoreError(.target, "unexpected SCAN reply from the temporary server")
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
                    throw RestoreError(.target, "the target \(target.endpoint) failed while loading the base (\(copied) keys acknowledged): \(error)", underlying: error)
                }
                if let bad = results.first(where: \.isError) {
                    throw RestoreError(.target, "the target \(target.endpoint) refused RESTORE of a base key: \(bad.errorMessage ?? "")")
                }
                copied += writes.count - 1
                progress?(RestoreProgress(phase: .base, done: copied, total: total))
            } while cursor != "0" && !stop.isSet
        }
        return copied
    }
}
