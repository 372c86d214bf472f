import Foundation
import RESP
import RedisClient

/// `save`: a snapshot taken with BGSAVE (or SAVE) and followed until it is on disk, so
/// "done" means the server said so: `rdb_last_bgsave_status:ok` and a new
/// `rdb_last_save_time`. Optionally the dump is then copied off the server with a SHA-256.
public enum Snapshot {
    /// How to take it.
    public struct Options: Sendable {
        /// SAVE instead of BGSAVE: no fork, the server blocks until it is written (the
        /// book's advice for a large data set on a machine that forks slowly).
        public var blocking: Bool
        /// How long the whole save (and a wait for a save already running) may take.
        public var timeout: Duration
        /// Copy the dump into this folder afterwards.
        public var copyTo: String?
        /// The name the copy starts with (the connection's name).
        public var name: String
        /// Fetch the copy over the replication protocol even when the server is on this
        /// machine (a server in a container listens on loopback but its files are not here).
        public var overReplication: Bool
        /// How often INFO is polled while waiting.
        public var pollInterval: Duration

        /// Creates options.
        public init(blocking: Bool = false, timeout: Duration = .seconds(300), copyTo: String? = nil, name: String = "redis",
                    overReplication: Bool = false, pollInterval: Duration = .milliseconds(25)) {
            self.blocking = blocking
            self.timeout = timeout
            self.copyTo = copyTo
            self.name = name
            self.overReplication = overReplication
            self.pollInterval = pollInterval
        }
    }

    /// What happened.
    public struct Report: Sendable {
        /// `BGSAVE` or `SAVE`.
        public var kind: String
        /// From sending the command to the server reporting the save done.
        public var duration: Duration
        /// `latest_fork_usec` after a BGSAVE (nil for SAVE, which does not fork).
        public var forkMicroseconds: Int?
        /// The dump's size, when it is readable here or was fetched.
        public var dumpSize: Int?
        /// `rdb_changes_since_last_save` just before the save: the writes it captured.
        public var changesSaved: Int
        /// The new `rdb_last_save_time`.
        public var lastSaveTime: Int
        /// True when a BGSAVE was already running and was waited for first.
        public var waitedForRunningSave: Bool
        /// How long that wait took.
        public var waitedFor: Duration?
        /// The BGSAVE was scheduled behind another child (an AOF rewrite) first.
        public var wasScheduled: Bool
        /// The copy, when one was asked for.
        public var copy: SnapshotCopy.Result?
    }

    /// Saves on `connection`'s server (and copies the dump when asked). Throws with the
    /// server, what failed and why; a failed copy leaves nothing in the target folder.
    public static func run(_ connection: RedisConnection, _ options: Options) async throws(PersistenceError) -> Report {
        let clock = ContinuousClock()
        let deadline = clock.now + options.timeout
        func remaining() -> Duration { max(.zero, deadline - clock.now) }
        let endpoint = connection.endpoint
        // Check a copy can be made before saving, so a bad folder fails fast.
        if let target = options.copyTo { try SnapshotCopy.checkTarget(target) }
        let files = try await ServerFiles.read(connection)

        // A save already running: wait for it (ours must start after it, or it would be
        // refused), and say so.
        var waited: Duration?
        var state = try await ServerPersistenceState.read(connection)
        let waitStart = clock.now
        if state.bgsaveInProgress {
            _ = try await waitForNoBgsave(connection, timeout: remaining(), limit: options.timeout, options.pollInterval)
            waited = clock.now - waitStart
            state = try await ServerPersistenceState.read(connection)
        }
        // rdb_last_save_time has one-second resolution: start in a new second, so "it
        // moved" is a proof that this save finished.
        try await waitForNextSecond(connection, after: state.lastSaveTime, timeout: remaining())

        let kind = options.blocking ? "SAVE" : "BGSAVE"
        var scheduled = false
        var started = clock.now
        var before = state
        while true {
            before = try await ServerPersistenceState.read(connection)
            started = clock.now
            let reply: RESPValue
            if options.blocking {
                reply = try await blockingSave(connection, timeout: remaining())
            } else {
                reply = try await connection.persistenceSend(RESPCommand("BGSAVE", "SCHEDULE"), "BGSAVE")
            }
            if let error = reply.errorMessage {
                // Someone started a BGSAVE between our check and our command.
                if error.localizedCaseInsensitiveContains("already in progress") {
                    let again = clock.now
                    _ = try await waitForNoBgsave(connection, timeout: remaining(), limit: options.timeout, options.pollInterval)
                    waited = (waited ?? .zero) + (clock.now - again)
                    let latest = try await ServerPersistenceState.read(connection)
                    try await waitForNextSecond(connection, after: latest.lastSaveTime, timeout: remaining())
                    continue
                }
                throw PersistenceError(.failed, "\(kind) on \(endpoint) was refused: \(error)")
            }
            scheduled = reply.string?.localizedCaseInsensitiveContains("scheduled") ?? false
            break
        }

        let after: ServerPersistenceState
        if options.blocking {
            after = try await ServerPersistenceState.read(connection)
        } else {
            let forksBefore = before.totalForks
            do {
                after = try await waitUntil("BGSAVE on \(endpoint)", timeout: remaining(), limit: options.timeout, every: options.pollInterval) { () throws(PersistenceError) in
                    let now = try await ServerPersistenceState.read(connection)
                    if now.bgsaveInProgress { return nil }
                    if now.lastSaveTime > before.lastSaveTime { return now }
                    // Our child forked (total_forks moved) and ended without a new save time.
                    if now.totalForks > forksBefore && !now.rewriteBusy { return now }
                    return nil
                }
            } catch where error.kind == .timeout {
                throw PersistenceError(.timeout, error.message + " (it keeps running on the server; `save` again waits for it)")
            }
        }
        let duration = clock.now - started
        guard after.lastBgsaveOK else {
            throw PersistenceError(.failed, "\(kind) on \(endpoint) failed: rdb_last_bgsave_status is \(after.text("rdb_last_bgsave_status")) (the server's log says why: often a folder that is not writable or a full disk)")
        }
        guard after.lastSaveTime > before.lastSaveTime else {
            throw PersistenceError(.failed, "\(kind) on \(endpoint) ended but rdb_last_save_time did not move (still \(after.lastSaveTime)): the snapshot was not written")
        }
        var report = Report(kind: kind, duration: duration,
                            forkMicroseconds: options.blocking ? nil : after.latestForkMicroseconds,
                            dumpSize: nil, changesSaved: before.changesSinceLastSave, lastSaveTime: after.lastSaveTime,
                            waitedForRunningSave: waited != nil, waitedFor: waited, wasScheduled: scheduled, copy: nil)
        if files.isOnThisMachine {
            report.dumpSize = (try? FileManager.default.attributesOfItem(atPath: files.dumpPath)[.size] as? Int) ?? nil
        }
        if let target = options.copyTo {
            let stamp = SnapshotCopy.timestamp(Date())
            let fileName = "\(options.name)-\(stamp).rdb"
            if files.isOnThisMachine && !options.overReplication {
                report.copy = try SnapshotCopy.copyLocal(from: files.dumpPath, server: endpoint, to: target, fileName: fileName)
            } else {
                report.copy = try await ReplicationSnapshotFetch.fetch(connection.configuration, to: target, fileName: fileName, timeout: remaining())
                if report.dumpSize == nil { report.dumpSize = report.copy?.size }
            }
        }
        return report
    }

    /// SAVE on a connection of its own whose reply timeout is the save's timeout (the
    /// shared connection's is usually shorter than a large save).
    static func blockingSave(_ connection: RedisConnection, timeout: Duration) async throws(PersistenceError) -> RESPValue {
        var configuration = connection.configuration
        configuration.commandTimeout = max(timeout, .milliseconds(1))
        let own: RedisConnection
        do { own = try await RedisConnection.connect(configuration) } catch {
            throw PersistenceError(.connection, "cannot open a connection to \(connection.endpoint) for SAVE: \(error.message)", underlying: error)
        }
        defer { Task { await own.close() } }
        do {
            return try await own.reply(to: RESPCommand("SAVE"))
        } catch {
            if error.kind == .timeout {
                throw PersistenceError(.timeout, "SAVE on \(connection.endpoint) did not finish within \(timeout.formattedSeconds) (the server stays blocked until it has written the snapshot)")
            }
            throw PersistenceError(.connection, "SAVE on \(connection.endpoint) failed: \(error.message)", underlying: error)
        }
    }

    static func waitForNoBgsave(_ connection: RedisConnection, timeout: Duration, limit: Duration, _ interval: Duration) async throws(PersistenceError) -> ServerPersistenceState {
        try await waitUntil("the BGSAVE already running on \(connection.endpoint)", timeout: timeout, limit: limit, every: interval) { () throws(PersistenceError) in
            let now = try await ServerPersistenceState.read(connection)
            return now.bgsaveInProgress ? nil : now
        }
    }

    /// Waits until the server's clock (TIME) is safely past
    /// `seconds`.
    static func waitForNextSecond(_ connection: RedisConnection, after seconds: Int, timeout: Duration) async throws(PersistenceError) {
        _ = try await waitUntil("the next second on \(connection.endpoint)", timeout: max(timeout, .seconds(2)), every: .milliseconds(20)) { () throws(PersistenceError) -> Bool? in
            let reply = try await connection.persistenceSend(RESPCommand("TIME"), "TIME")
            guard let elements = reply.elements, elements.count == 2,
                  let now = elements[0].string.flatMap(Int.init),
                  let micro = elements[1].string.flatMap(Int.init) else {
                throw PersistenceError(.failed, "TIME on \(connection.endpoint) gave an unexpected reply")
            }
            // TIME reads gettimeofday, but the save stamps rdb_last_save_time with time(NULL),
            // a coarse clock that can trail it by a few milliseconds (one kernel tick): a save
            // in the first moments of the new second could still be stamped with the old one.
            // 50 ms into the new second is well past any tick.
            return now > seconds + 1 || (now > seconds && micro >= 50_000) ? true : nil
        }
    }
}
