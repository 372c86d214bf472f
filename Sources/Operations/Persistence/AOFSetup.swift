import RESP
import RedisClient

/// `aof setup`: turns on what point-in-time recovery needs with CONFIG SET, waits for the
/// initial rewrite that `appendonly yes` starts (the AOF is only complete once its base is
/// written), and CONFIG REWRITEs the server's config file when it has one.
public enum AOFSetup {
    /// What to turn on besides `appendonly yes`.
    public struct Options: Sendable {
        /// `aof-timestamp-enabled yes`: `#TS` annotations, so a restore can stop at a time.
        public var timestamps: Bool
        /// `auto-aof-rewrite-percentage 0`: no automatic rewrite folds history away.
        public var noAutoRewrite: Bool
        /// How long the initial rewrite may take.
        public var timeout: Duration

        /// Creates options.
        public init(timestamps: Bool = false, noAutoRewrite: Bool = false, timeout: Duration = .seconds(300)) {
            self.timestamps = timestamps
            self.noAutoRewrite = noAutoRewrite
            self.timeout = timeout
        }
    }

    /// One setting changed.
    public struct Change: Sendable, Hashable {
        public var name: String
        public var before: String
        public var after: String
    }

    /// What was done.
    public struct Report: Sendable {
        /// Settings changed (those already right are not listed).
        public var changes: [Change]
        /// True when the initial rewrite was waited for.
        public var waitedForRewrite: Bool
        /// The config file CONFIG REWRITE updated, if any.
        public var configFile: String?
        /// How long it all took.
        public var duration: Duration
    }

    /// Sets up `connection`'s server.
    public static func run(_ connection: RedisConnection, _ options: Options) async throws(PersistenceError) -> Report {
        let endpoint = connection.endpoint
        let clock = ContinuousClock()
        let started = clock.now
        // Timestamps and the rewrite policy first, so the AOF that appendonly starts has them.
        var wanted: [(String, String)] = []
        if options.timestamps { wanted.append(("aof-timestamp-enabled", "yes")) }
        if options.noAutoRewrite { wanted.append(("auto-aof-rewrite-percentage", "0")) }
        wanted.append(("appendonly", "yes"))
        var changes: [Change] = []
        for (name, value) in wanted {
            let current: String
            do {
                guard let v = try await connection.configGet(name)[name] else {
                    throw PersistenceError(.refused, "cannot set \(name) on \(endpoint): the server does not have that setting (Redis 7 or later is needed for aof-timestamp-enabled)")
                }
                current = v
            } catch let error as PersistenceError {
                throw error
            } catch {
                throw PersistenceError(.connection, "cannot read \(name) on \(endpoint): \(error)", underlying: error)
            }
            guard current != value else { continue }
            let reply = try await connection.persistenceSend(RESPCommand("CONFIG", "SET", name, value), "CONFIG SET \(name)")
            if let error = reply.errorMessage {
                throw PersistenceError(.failed, "CONFIG SET \(name) \(value) on \(endpoint) was refused: \(error)"
                                       + (changes.isEmpty ? "" : " (already changed: \(changes.map { "\($0.name) \($0.after)" }.joined(separator: ", ")))"))
            }
            changes.append(Change(name: name, before: current, after: value))
        }
        var waited = false
        if changes.contains(where: { $0.name == "appendonly" }) {
            waited = true
            do {
                _ = try await waitUntil("the initial AOF rewrite on \(endpoint) after appendonly yes", timeout: options.timeout) { () throws(PersistenceError) -> ServerPersistenceState? in
                    let now = try await ServerPersistenceState.read(connection)
                    return now.rewriteBusy ? nil : now
                }
            } catch where error.kind == .timeout {
                throw PersistenceError(.timeout, error.message + " (appendonly is yes; the AOF is incomplete until its rewrite ends)")
            }
            let after = try await ServerPersistenceState.read(connection)
            guard after.lastRewriteOK, after.aofEnabled else {
                throw PersistenceError(.failed, "the initial AOF rewrite on \(endpoint) failed: aof_last_bgrewrite_status is \(after.text("aof_last_bgrewrite_status")) (the server's log says why)")
            }
        }
        var configFile: String?
        let server: RedisInfo
        do { server = try await connection.info("server") } catch {
            throw PersistenceError(.connection, "cannot read INFO server from \(endpoint): \(error.message)", underlying: error)
        }
        if let file = server.string("config_file"), !file.isEmpty, !changes.isEmpty {
            let reply = try await connection.persistenceSend(RESPCommand("CONFIG", "REWRITE"), "CONFIG REWRITE")
            if let error = reply.errorMessage {
                throw PersistenceError(.failed, "the settings are live on \(endpoint), but CONFIG REWRITE of \(file) failed: \(error); they are lost at the next restart unless you edit the file")
            }
            configFile = file
        }
        return Report(changes: changes, waitedForRewrite: waited, configFile: configFile, duration: clock.now - started)
    }
}
