import AOF
import Foundation
import NIOCore
import RESP
import RedisClient

/// Loads a generation's base into a server through a connection: an AOF base as its
/// commands; an RDB base as RESTORE commands made from its keys (`BaseLoader+RDB`). Only
/// keys whose payload cannot be made for the target go through a temporary local server
/// that loads the base as its dump, from which they are copied with DUMP, PTTL and
/// RESTORE (with their TTL).
struct BaseLoader {
    let plan: RestorePlan
    let target: RedisConnection
    let lab: Lab?
    let window: Int
    /// Checked between batches: a set flag ends the load early (the caller reports it).
    let stop: StopFlag
    let progress: (@Sendable (RestoreProgress) -> Void)?
    /// Restore RDB keys with the TTL they had at the target second.
    var ttlAsOfTarget = false
    /// The base's bytes, when the check before writing kept them.
    var checked: CheckedObjects?
    /// Makes a Lab for the temporary server when `lab` is nil and a key needs one.
    var makeLab: (@Sendable () async -> Lab?)?
    /// Called once when all of an RDB base is sent and its last replies are awaited.
    var lastBatchSent: (@Sendable () -> Void)?

    /// Loads it and returns what the target acknowledged: keys (RDB) or commands (AOF).
    func load() async throws(RestoreError) -> BaseLoadResult {
        switch plan.generation.format {
        case .aof: return try await loadCommands()
        case .rdb: return try await loadRDBWithRestore()
        }
    }

    /// Copies `keys` (whose payloads could not be made here) out of a temporary server
    /// that loads the base, their expiries moved in its copy for `--ttl-as-of-target`
    /// (``TemporaryServerBase``; `trailer` is the base's, from its reader).
    func loadThroughTemporaryServer(only keys: [RDBRestoreBatcher.Unrestorable],
                                    trailer: (end: Int, written: Bool)?) async throws(RestoreError) -> TemporaryServerCopy {
        let named = keys.prefix(3).map(\.explained).joined(separator: "; ")
        var made: Lab?
        if lab == nil, let makeLab { made = await makeLab() }
        guard let lab = lab ?? made else {
            throw RestoreError(.invalidRequest, "\(keys.count) keys of the base \(plan.baseName) cannot be sent as RESTORE payloads (\(named)); copying them needs a temporary local redis-server (set REDKEEP_SERVER or install redis-server), and none is available. The other keys were restored")
        }
        let name = "restore-base-\(getpid())-\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        let folder = lab.root + "/" + name
        let plan = self.plan
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try await ArchiveIO.run { () throws(RestoreError) in
                try plan.copyBase(to: folder + "/dump.rdb")
                try TemporaryServerBase.moveExpiries(in: folder + "/dump.rdb", of: keys, trailer: trailer)
            }
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
            let copied = try await copyKeys(keys, from: connection)
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

    /// DUMP and PEXPIRETIME each of `keys` on `source`, RESTORE it into the target with
    /// the same absolute expiry (ABSTTL), to the millisecond, as the payload path does. A
    /// temporary server older than 7.0 (no PEXPIRETIME) gives PTTL, relative, instead.
    private func copyKeys(_ keys: [RDBRestoreBatcher.Unrestorable], from source: RedisConnection) async throws -> TemporaryServerCopy {
        var result = TemporaryServerCopy()
        let batchSize = max(1, min(window, 1000))
        let byDatabase = Dictionary(grouping: keys, by: \.database)
        var absolute = true
        for db in byDatabase.keys.sorted() where !stop.isSet {
            _ = try await source.send(["SELECT", .string(String(db))])
            let inDatabase = byDatabase[db]!
            for start in stride(from: 0, to: inDatabase.count, by: batchSize) where !stop.isSet {
                let part = inDatabase[start..<min(inDatabase.count, start + batchSize)]
                func read(_ expiry: String) async throws -> [RESPValue] {
                    var reads: [RESPCommand] = []
                    for key in part.map(\.key) { reads.append(["DUMP", .bytes(ByteBuffer(bytes: key))]); reads.append([.string(expiry), .bytes(ByteBuffer(bytes: key))]) }
                    return try await source.pipeline(reads)
                }
                var values = try await read(absolute ? "PEXPIRETIME" : "PTTL")
                if absolute, values.count > 1, values[1].isError {
                    absolute = false
                    values = try await read("PTTL")
                }
                var writes: [RESPCommand] = [["SELECT", .string(String(db))]]
                var shifted = 0
                for (i, entry) in part.enumerated() {
                    let key = entry.key
                    let ttl = values[2 * i + 1].int ?? -1
                    guard let payload = values[2 * i].bytes, ttl != -2 else { result.expiredMeanwhile += 1; continue }
                    if entry.shifted { shifted += 1 }
                    var restore: RESPCommand = ["RESTORE", .bytes(ByteBuffer(bytes: key)), .string(String(max(ttl, 0))), .bytes(payload), "REPLACE"]
                    if absolute && ttl > 0 { restore = ["RESTORE", .bytes(ByteBuffer(bytes: key)), .string(String(ttl)), .bytes(payload), "REPLACE", "ABSTTL"] }
                    writes.append(restore)
                }
                let results: [RESPValue]
                do { results = try await target.pipeline(writes) } catch {
                    throw RestoreError(.target, "the target \(target.endpoint) failed while copying base keys from the temporary server (\(result.copied) acknowledged): \(error)", underlying: error)
                }
                if let bad = results.first(where: \.isError) {
                    throw RestoreError(.target, "the target \(target.endpoint) refused RESTORE of a base key copied through the temporary server: \(bad.errorMessage ?? "")")
                }
                result.copied += writes.count - 1
                result.ttlShifted += shifted
            }
        }
        return result
    }
}
