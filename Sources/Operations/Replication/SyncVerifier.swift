import Foundation
import RESP
import RedisClient

/// How verify-sync runs.
public struct SyncCheckOptions: Sendable {
    /// The longest the whole check may take (100ms to 1h); every wait and every reply inside
    /// it stops at this deadline (removing the token may take up to 1 s more).
    public var timeout: Duration
    /// Also confirm each replica's append-only file reached disk.
    public var fsync: Bool
    /// The sorted set holding the tokens (the book's `sync:wait`).
    public var key: String

    /// Creates options: 5 s, no fsync check, `sync:wait`.
    public init(timeout: Duration = .seconds(5), fsync: Bool = false, key: String = "sync:wait") {
        self.timeout = timeout
        self.fsync = fsync
        self.key = key
    }
}

/// The book's `wait_for_sync` (listing 4.3), done right: check each replica's link, write a
/// unique token on the master, let `WAIT` tell when the direct replicas have it, read the
/// token back on every replica (polling only where no server-side wait exists, down
/// chains), and optionally confirm the replicas' AOF reached disk.
public enum SyncVerifier {
    /// Entries of the token set older than this are removed on every run (the book's 15 minutes).
    static let tokenLifetime: Double = 900

    /// Runs the check. Throws when the master does not answer or cannot take the token, or
    /// when a server given as a replica is not one (or follows another master); replicas that
    /// are unreachable, whose link is down, or that do not see the token in time are
    /// reported in their result.
    public static func verify(master: ReplicationServer, replicas: [ReplicationServer],
                              options: SyncCheckOptions = SyncCheckOptions()) async throws(ReplicationError) -> SyncReport {
        let deadline = try CommandDeadline(options.timeout, command: "verify-sync")
        do {
            return try await run(master: master, replicas: replicas, options: options, deadline: deadline.instant)
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError(.connection, "verify-sync on \(master.label) failed: \(error)", server: master.label, underlying: error)
        }
    }

    struct Candidate: Sendable {
        var server: ReplicationServer
        var connection: RedisConnection?
        var state: ReplicationState?
        var result: ReplicaSyncResult
    }

    /// How long removing the token may take once the check is over (even past the deadline:
    /// the sweep on the next run removes it otherwise).
    static let cleanupBound: Duration = .seconds(1)

    /// How long the token may still be read on a replica that answered, when the deadline
    /// passed while another (frozen) replica was being inspected.
    static let lastReadBound: Duration = .milliseconds(250)

    private static func run(master: ReplicationServer, replicas: [ReplicationServer], options: SyncCheckOptions,
                            deadline: ContinuousClock.Instant) async throws -> SyncReport {
        guard !replicas.isEmpty else { throw ReplicationError(.invalidRequest, "verify-sync needs at least one replica after the master") }
        let clock = ContinuousClock()
        let start = clock.now
        let opened = try await race(until: deadline) { try await master.open(boundedBy: options.timeout) }
        guard case .finished(let masterConnection) = opened else {
            throw ReplicationError(.timeout, "master \(master.label) did not answer within the --timeout of \(options.timeout) (connecting)", server: master.label)
        }

        // The master's state and the token in one round trip (INFO first, so the offsets
        // compared are from before the token), every replica's state at the same time.
        let token = UUID().uuidString.lowercased()
        let now = Date().timeIntervalSince1970
        async let masterReplies = race(until: deadline) {
            try await masterConnection.pipeline([
                RESPCommand("INFO", "replication"),
                RESPCommand("ZADD", options.key, String(format: "%.6f", now), token),
                RESPCommand("ZREMRANGEBYSCORE", options.key, "-inf", "(" + String(format: "%.6f", now - tokenLifetime)),
            ])
        }
        let candidates = await inspect(replicas, timeout: options.timeout, deadline: deadline)
        // Connections opened here (not the caller's) are closed however the check ends.
        defer {
            let fresh = candidates.compactMap { $0.connection === $0.server.connection ? nil : $0.connection }
            let ownMaster = masterConnection === master.connection ? nil : masterConnection
            Task {
                for connection in fresh { await connection.close() }
                await ownMaster?.close()
            }
        }
        let written: [RESPValue]
        do {
            guard case .finished(let replies) = try await masterReplies else {
                throw ReplicationError(.timeout, "master \(master.label) did not answer INFO replication and ZADD \(options.key) within the --timeout of \(options.timeout)", server: master.label)
            }
            written = replies
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError(.connection, "master \(master.label) does not answer: \(error)", server: master.label, underlying: error)
        }
        let removeToken: @Sendable () async -> Void = {
            _ = try? await race(until: max(clock.now, deadline) + cleanupBound) {
                try await masterConnection.reply(to: RESPCommand("ZREM", options.key, token))
            }
        }
        let writtenAt = clock.now
        guard let infoText = written[0].string else {
            throw ReplicationError(.refused, "master \(master.label) answered INFO replication with \(written[0].errorMessage ?? "no text")", server: master.label)
        }
        let masterState = ReplicationState(RedisInfo(parsing: infoText))
        guard !masterState.isReplica else {
            throw ReplicationError(.wrongRole, "\(master.label) is a replica of \(masterState.master?.description ?? "?"), not a master: verify-sync writes a token, so name the top of the chain", server: master.label)
        }
        if let message = written[1].errorMessage {
            throw ReplicationError(.refused, "cannot write the token to \(options.key) on master \(master.label): \(message)", server: master.label)
        }
        var work: [Candidate]
        do {
            work = try classify(candidates, master: master, masterState: masterState)
        } catch {
            await removeToken()
            throw error
        }

        // A replica that answered has at least one short read of the token even when another
        // one, frozen, held the inspection until the deadline.
        let lastChance = max(deadline, clock.now + lastReadBound)

        // WAIT for the direct replicas: the server tells us when they acknowledged the
        // token's offset, no polling. Deeper levels are read back below.
        let direct = work.indices.filter { work[$0].result.level == 1 && work[$0].result.problem == nil }
        var method = "polling"
        var acknowledged: Int?
        if !direct.isEmpty {
            let left = max(1, milliseconds(deadline - clock.now))
            let reply = try? await race(until: lastChance) {
                try await masterConnection.reply(to: RESPCommand("WAIT", String(direct.count), String(left)))
            }
            if case .finished(let value) = reply, let count = value.int {
                method = "WAIT"
                acknowledged = count
            }
        }

        // Read the token back on every replica still in the running, concurrently.
        let key = options.key
        await withTaskGroup(of: (Int, ReplicaSyncResult).self) { group in
            for index in work.indices where work[index].result.problem == nil {
                guard let connection = work[index].connection else { continue }
                let result = work[index].result
                group.addTask {
                    let read = try? await race(until: lastChance) {
                        var result = result
                        await waitForToken(connection, key: key, token: token, since: writtenAt, deadline: deadline, into: &result)
                        return result
                    }
                    guard case .finished(let done) = read else {
                        var late = result
                        late.problem = "did not answer ZSCORE within the --timeout"
                        return (index, late)
                    }
                    return (index, done)
                }
            }
            for await (index, result) in group { work[index].result = result }
        }

        if options.fsync {
            let checked = work
            if case .finished(let confirmed)? = try? await race(until: lastChance, {
                var checking = checked
                await confirmFsync(&checking, master: masterConnection, direct: direct, deadline: deadline)
                return checking
            }) {
                work = confirmed
            } else {
                for index in work.indices where work[index].result.seenMicros != nil {
                    work[index].result.fsync = .notConfirmed("no answer to the fsync check within the --timeout")
                }
            }
        }

        // Clean up our own token (the sweep above takes care of any a crash left behind).
        await removeToken()

        return SyncReport(master: master.name, masterAddress: master.endpoint.description, token: token, method: method,
                          waitAcknowledged: acknowledged, replicas: work.map(\.result),
                          totalMicros: micros(clock.now - start))
    }

    /// Opens each replica and reads its INFO replication, concurrently.
    private static func inspect(_ replicas: [ReplicationServer], timeout: Duration,
                                deadline: ContinuousClock.Instant) async -> [Candidate] {
        var candidates = replicas.map { server in
            Candidate(server: server, connection: nil, state: nil,
                      result: ReplicaSyncResult(name: server.name, address: server.endpoint.description, link: "unreachable",
                                                fsync: .notAsked))
        }
        await withTaskGroup(of: (Int, RedisConnection?, ReplicationState?, String?).self) { group in
            for (index, server) in replicas.enumerated() {
                group.addTask {
                    let connection: RedisConnection
                    do {
                        guard case .finished(let opened) = try await race(until: deadline, { try await server.open(boundedBy: timeout) }) else {
                            return (index, nil, nil, "\(server.label) does not answer within the --timeout of \(timeout) (connecting)")
                        }
                        connection = opened
                    } catch {
                        return (index, nil, nil, "\(error)")
                    }
                    do {
                        guard case .finished(let state) = try await race(until: deadline, { try await connection.replicationState() }) else {
                            return (index, connection, nil, "\(server.label) does not answer INFO replication within the --timeout of \(timeout)")
                        }
                        return (index, connection, state, nil)
                    } catch {
                        return (index, connection, nil, "\(server.label) does not answer INFO replication: \(error)")
                    }
                }
            }
            for await (index, connection, state, problem) in group {
                candidates[index].connection = connection
                candidates[index].state = state
                candidates[index].result.problem = problem
            }
        }
        return candidates
    }

    /// Checks each replica is one, of this master's tree, with its link up; works out levels.
    private static func classify(_ input: [Candidate], master: ReplicationServer, masterState: ReplicationState) throws -> [Candidate] {
        var work = input
        for index in work.indices {
            guard let state = work[index].state else { continue }
            let server = work[index].server
            guard state.isReplica else {
                throw ReplicationError(.wrongRole, "\(server.label) is not a replica: its role is \(state.roleName), so there is nothing to verify-sync with \(master.label)", server: server.label)
            }
            work[index].result.link = state.link ?? "unknown"
            work[index].result.upstream = state.master?.description
            // Read at the same moment as the master's: a replica that already has the token is not behind.
            if let offset = state.offset, let masterOffset = masterState.offset { work[index].result.offsetLag = max(0, masterOffset - offset) }
            if state.linkUp, state.replicationID != masterState.replicationID {
                throw ReplicationError(.wrongRole, "\(server.label) replicates \(state.master?.description ?? "?"), which is not in \(master.label)'s replication tree (its replication ID \(state.replicationID) differs from the master's \(masterState.replicationID))", server: server.label)
            }
            if !state.linkUp {
                let since = state.linkDownSeconds.map { $0 > 0 ? " (for \($0) s)" : " (since just now)" } ?? ""
                work[index].result.problem = "its link to its master \(state.master?.description ?? "?") is \(state.link ?? "unknown")\(since)\(state.syncInProgress ? " (a full sync is running)" : "")"
            }
        }
        // Levels: a direct replica's master is the master (or the master lists it); a deeper
        // one's master is another replica given here.
        func isDirect(_ candidate: Candidate) -> Bool {
            if let upstream = candidate.state?.master, sameServer(upstream, master.endpoint) { return true }
            guard case .tcp(_, let port) = candidate.server.endpoint else { return false }
            return masterState.replicas.contains { $0.port == port && sameServer(.tcp(host: $0.host, port: $0.port), candidate.server.endpoint) }
        }
        for index in work.indices where isDirect(work[index]) && work[index].state != nil { work[index].result.level = 1 }
        var changed = true
        while changed {
            changed = false
            for index in work.indices where work[index].result.level == nil {
                guard let upstream = work[index].state?.master else { continue }
                if let parent = work.first(where: { sameServer($0.server.endpoint, upstream) && $0.result.level != nil }) {
                    work[index].result.level = parent.result.level! + 1
                    changed = true
                }
            }
        }
        return work
    }

    /// Reads the token on a replica until it is there, the link drops, or the deadline passes.
    /// Polls with a back-off from 50 µs to 1 ms (after WAIT the first read usually finds it).
    private static func waitForToken(_ connection: RedisConnection, key: String, token: String, since: ContinuousClock.Instant,
                                     deadline: ContinuousClock.Instant, into result: inout ReplicaSyncResult) async {
        let clock = ContinuousClock()
        var pause = Duration.microseconds(50)
        var lastLinkCheck = clock.now
        while true {
            let reply: RESPValue
            do { reply = try await connection.reply(to: RESPCommand("ZSCORE", key, token)) } catch {
                result.problem = "lost while reading the token: \(error.message)"
                result.link = "unreachable"
                return
            }
            if let message = reply.errorMessage {
                result.problem = "answered ZSCORE with an error: \(message)"
                return
            }
            if case .null = reply {} else {
                result.seenMicros = micros(clock.now - since)
                return
            }
            if clock.now >= deadline {
                result.problem = "did not see the token within the timeout"
                return
            }
            // Every 20 ms, make sure there is still a link to wait on.
            if clock.now - lastLinkCheck > .milliseconds(20) {
                lastLinkCheck = clock.now
                if let state = try? await connection.replicationState(), !state.linkUp {
                    result.link = state.link ?? "down"
                    result.problem = "its link to its master \(state.master?.description ?? "?") went \(state.link ?? "down") while waiting for the token"
                    return
                }
            }
            try? await Task.sleep(for: min(pause, max(.zero, deadline - clock.now)))
            pause = min(pause * 2, .milliseconds(1))
        }
    }

    static func micros(_ d: Duration) -> Int {
        Int(d.wholeMicroseconds)
    }

    static func milliseconds(_ d: Duration) -> Int { micros(d) / 1000 }
}
