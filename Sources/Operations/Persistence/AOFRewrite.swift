import RESP
import RedisClient

/// `rewrite`: BGREWRITEAOF followed until the server reports it done. A rewrite asked for
/// while a BGSAVE runs is only scheduled (`aof_rewrite_scheduled:1`), so "done" is both
/// `aof_rewrite_in_progress` and `aof_rewrite_scheduled` at 0, then
/// `aof_last_bgrewrite_status:ok`.
public enum AOFRewrite {
    /// What happened.
    public struct Report: Sendable {
        /// From BGREWRITEAOF to the server reporting it done.
        public var duration: Duration
        /// `aof_current_size` before and after.
        public var sizeBefore: Int
        public var sizeAfter: Int
        /// The manifest's files before and after (nil when the AOF folder is not readable
        /// from here, as for a server on another machine).
        public var filesBefore: [ManifestFileInfo]?
        public var filesAfter: [ManifestFileInfo]?
        /// True when the server scheduled it behind a running child (a BGSAVE).
        public var wasScheduled: Bool
        /// `latest_fork_usec` after the rewrite.
        public var forkMicroseconds: Int
    }

    /// Rewrites `connection`'s AOF, waiting at most `timeout`. Refuses when AOF is off.
    public static func run(_ connection: RedisConnection, timeout: Duration = .seconds(300),
                           pollInterval: Duration = .milliseconds(25)) async throws(PersistenceError) -> Report {
        let endpoint = connection.endpoint
        let clock = ContinuousClock()
        let started = clock.now
        let before = try await ServerPersistenceState.read(connection)
        guard before.aofEnabled else {
            throw PersistenceError(.refused, "cannot rewrite the AOF of \(endpoint): AOF is off (appendonly no); turn it on with `aof setup` (CONFIG SET appendonly yes)")
        }
        let files = try await ServerFiles.read(connection)
        let filesBefore = ManifestFileInfo.list(files.manifestFiles())
        // A rewrite already under way: BGREWRITEAOF would be refused; follow that one.
        var scheduled = false
        if !before.rewriteBusy {
            let reply = try await connection.persistenceSend(RESPCommand("BGREWRITEAOF"), "BGREWRITEAOF")
            if let error = reply.errorMessage, !error.localizedCaseInsensitiveContains("already in progress") {
                throw PersistenceError(.failed, "BGREWRITEAOF on \(endpoint) failed at once: \(error) (the server's log says why: often an AOF folder that is not writable or a full disk)")
            }
            scheduled = reply.string?.localizedCaseInsensitiveContains("scheduled") ?? false
        }
        let after: ServerPersistenceState
        do {
            after = try await waitUntil("the AOF rewrite on \(endpoint)", timeout: max(.zero, started + timeout - clock.now), limit: timeout, every: pollInterval) { () throws(PersistenceError) in
                let now = try await ServerPersistenceState.read(connection)
                return now.rewriteBusy ? nil : now
            }
        } catch where error.kind == .timeout {
            throw PersistenceError(.timeout, error.message + " (it keeps running on the server; INFO persistence shows aof_rewrite_in_progress)")
        }
        guard after.lastRewriteOK else {
            throw PersistenceError(.failed, "the AOF rewrite on \(endpoint) failed: aof_last_bgrewrite_status is \(after.text("aof_last_bgrewrite_status")) (the server's log says why: often a folder that is not writable or a full disk)")
        }
        return Report(duration: clock.now - started, sizeBefore: before.int("aof_current_size"), sizeAfter: after.int("aof_current_size"),
                      filesBefore: filesBefore, filesAfter: ManifestFileInfo.list(files.manifestFiles()),
                      wasScheduled: scheduled, forkMicroseconds: after.latestForkMicroseconds)
    }
}
