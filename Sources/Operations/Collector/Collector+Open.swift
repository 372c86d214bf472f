import Foundation
import RESP
import RedisClient

extension Collector {
    /// Connects, reads where the server keeps its AOF (CONFIG GET dir, appenddirname,
    /// appendfilename), opens or creates the archive, resumes from its index, and reads the
    /// manifest once, so a wrong folder or a server without AOF fails here, clearly.
    /// `log` receives errors and warnings as they happen (a foreground run prints them).
    public static func open(name: String, source: RedisConnectionConfiguration, options: CollectorOptions,
                            log: (@Sendable (String) -> Void)? = nil) async throws(CollectorError) -> Collector {
        let endpoint = source.endpoint.description
        let connection: RedisConnection
        do { connection = try await RedisConnection.connect(source) } catch { throw CollectorError(.connection, error.message, underlying: error) }
        var warnings: [String] = []
        let aofDirectory: String
        let appendFilename: String
        let descriptor: ArchiveDescriptor
        do {
            let append = try await connection.configGet("append*")
            let dir = try await connection.configGet("dir")["dir"] ?? "."
            let autoRewrite = try await connection.configGet("auto-aof-rewrite-percentage")["auto-aof-rewrite-percentage"]
            let info = try await connection.info("server")
            let replication = try await connection.info("replication")
            guard append["appendonly"] == "yes" else {
                await connection.close()
                throw CollectorError("\(endpoint) has appendonly no: there is no AOF to collect. Turn it on with CONFIG SET appendonly yes (and appendonly yes in redis.conf)")
            }
            appendFilename = append["appendfilename"] ?? "appendonly.aof"
            if let folder = options.aofDirectory {
                aofDirectory = folder
            } else if let sub = append["appenddirname"] {
                aofDirectory = sub.hasPrefix("/") ? sub : dir + "/" + sub
            } else {
                aofDirectory = dir  // Redis <= 6: appendonly.aof in dir
            }
            if let autoRewrite, autoRewrite != "0" {
                warnings.append("auto-aof-rewrite-percentage is \(autoRewrite) on \(endpoint): Redis may rewrite the AOF on its own. The collector follows such rewrites without losing bytes (it keeps the incr file open), but to rewrite only on the collector's schedule run CONFIG SET auto-aof-rewrite-percentage 0")
            }
            descriptor = ArchiveDescriptor(created: Date().timeIntervalSince1970, source: endpoint, runId: info.string("run_id"),
                                           aofDirectory: aofDirectory, serverVersion: info.string("valkey_version") ?? info.string("redis_version"),
                                           replicationId: replication.string("master_replid"))
        } catch let error as CollectorError {
            throw error
        } catch {
            await connection.close()
            throw CollectorError("cannot read the AOF settings of \(endpoint): \((error as? RedisClientError)?.message ?? "\(error)")")
        }
        let store: any ArchiveStore
        do {
            store = try await ArchiveIO.run { () throws(ArchiveError) -> any ArchiveStore in
                let opened = try ArchiveStores.open(options.archive, s3Endpoint: options.s3Endpoint)
                guard !(opened is LocalArchiveStore) else { return opened }
                // Object storage: spool locally, upload in the background.
                let spool = options.spool ?? (aofDirectory as NSString).deletingLastPathComponent + "/redkeep-spool-\(name)"
                return try ForwardingArchiveStore(remote: opened, spool: spool, pause: options.pause, rate: options.rate,
                                                  priority: options.uploadPriority)
            }
        } catch {
            await connection.close()
            throw CollectorError(error)
        }
        let worker = CollectorThread(name: "redkeep-collector-\(name)")
        let engine: CollectorEngine
        do {
            engine = try await withCheckedThrowingContinuation { (c: CheckedContinuation<CollectorEngine, any Error>) in
                worker.async {
                    do {
                        c.resume(returning: try CollectorEngine(store: store, aofDirectory: aofDirectory, appendFilename: appendFilename,
                                                                chunkSize: options.chunkSize, rate: options.rate, descriptor: descriptor,
                                                                now: Date().timeIntervalSince1970))
                    } catch {
                        c.resume(throwing: error)
                    }
                }
            }
        } catch {
            await connection.close()
            throw (error as? CollectorError) ?? CollectorError(.source, "\(error)", underlying: error)
        }
        var status = CollectorStatus(name: name, source: endpoint, archive: options.archive)
        status.upload = (store as? ForwardingArchiveStore)?.uploadStatus()
        // The uploader started with the engine: whether it could lower its priority is known.
        if let problem = status.upload?.priorityProblem { warnings.append(problem) }
        status.aofDirectory = aofDirectory
        status.mode = engine.mode.label
        status.warnings = warnings
        let collector = Collector(name: name, options: options, source: source, engine: engine, worker: worker, status: status,
                                  connection: connection, log: log)
        for warning in warnings { log?("chunk \(name): warning: \(warning)") }
        // An unreadable manifest fails loudly here: a collector that cannot follow anything
        // should not start. The copying itself (a large base first) is left to run().
        do { try await collector.io { () throws(CollectorError) in try engine.validate() } } catch {
            await connection.close()
            throw error
        }
        return collector
    }
}
