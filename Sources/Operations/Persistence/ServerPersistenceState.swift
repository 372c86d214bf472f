import Foundation
import RESP
import RedisClient

/// The INFO fields a save or rewrite is followed by, read in one go (INFO persistence,
/// plus `total_forks` and `latest_fork_usec` from INFO stats).
public struct ServerPersistenceState: Sendable, Hashable {
    /// The persistence section.
    public var persistence: RedisInfo
    /// The stats section.
    public var stats: RedisInfo

    /// Reads both sections from `connection`.
    public static func read(_ connection: RedisConnection) async throws(PersistenceError) -> ServerPersistenceState {
        do {
            return ServerPersistenceState(persistence: try await connection.info("persistence"), stats: try await connection.info("stats"))
        } catch {
            throw PersistenceError(.connection, "cannot read INFO from \(connection.endpoint): \(error.message)", underlying: error)
        }
    }

    func int(_ name: String) -> Int { persistence.int(name) ?? stats.int(name) ?? 0 }
    func text(_ name: String) -> String { persistence.string(name) ?? stats.string(name) ?? "" }

    /// `rdb_bgsave_in_progress:1`.
    public var bgsaveInProgress: Bool { int("rdb_bgsave_in_progress") == 1 }
    /// `rdb_last_save_time` (unix seconds).
    public var lastSaveTime: Int { int("rdb_last_save_time") }
    /// `rdb_last_bgsave_status` is ok.
    public var lastBgsaveOK: Bool { text("rdb_last_bgsave_status") == "ok" }
    /// `rdb_changes_since_last_save`.
    public var changesSinceLastSave: Int { int("rdb_changes_since_last_save") }
    /// `aof_enabled:1` (also while the first rewrite after turning it on runs).
    public var aofEnabled: Bool { int("aof_enabled") == 1 }
    /// A rewrite runs or waits for another child to finish.
    public var rewriteBusy: Bool { int("aof_rewrite_in_progress") == 1 || int("aof_rewrite_scheduled") == 1 }
    /// `aof_last_bgrewrite_status` is ok.
    public var lastRewriteOK: Bool { text("aof_last_bgrewrite_status") == "ok" }
    /// `total_forks` (0 when the server does not report it).
    public var totalForks: Int { int("total_forks") }
    /// `latest_fork_usec`.
    public var latestForkMicroseconds: Int { int("latest_fork_usec") }
}

extension RedisConnection {
    /// Sends `command`, turning a client error into a ``PersistenceError`` that names the
    /// server and what was attempted.
    func persistenceSend(_ command: RESPCommand, _ what: String) async throws(PersistenceError) -> RESPValue {
        do {
            return try await reply(to: command)
        } catch {
            throw PersistenceError(.connection, "\(what) on \(endpoint) failed: \(error.message)", underlying: error)
        }
    }
}

/// Polls until `done` says so, or throws a timeout naming `what` after `timeout`. The
/// message names `limit` (the timeout the user gave, of which `timeout` may be what is left).
func waitUntil<T: Sendable>(_ what: String, timeout: Duration, limit: Duration? = nil, every interval: Duration = .milliseconds(25),
                            _ done: () async throws(PersistenceError) -> T?) async throws(PersistenceError) -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if let result = try await done() { return result }
        guard clock.now < deadline else {
            throw PersistenceError(.timeout, "\(what) did not finish within \((limit ?? timeout).formattedSeconds)")
        }
        try? await Task.sleep(for: interval)
    }
}

extension Duration {
    /// `2.5s`, `120s`: how waits are named in messages.
    var formattedSeconds: String {
        let seconds = inSeconds
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}
