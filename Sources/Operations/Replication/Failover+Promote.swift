import RESP
import RedisClient

/// Failover: make another server the master, step by step, each step timed, undone in
/// reverse when a later one fails.
public enum Failover {
    /// The server in `known` at `endpoint`, else one named by its address.
    static func named(_ endpoint: RedisEndpoint, in known: [ReplicationServer], template: ReplicationServer) -> ReplicationServer {
        known.first { sameServer($0.endpoint, endpoint) } ?? template.sibling(endpoint)
    }

    /// A server's replication state, or nil when it does not answer within 2 s (or by the
    /// deadline, when that comes first).
    static func probe(_ server: ReplicationServer, pool: Connections) async -> ReplicationState? {
        try? await pool.on(server, "INFO replication", limit: .seconds(2)) { try await $0.replicationState() }
    }

    /// A replica whose lag cannot be known: it has no usable offset, or a full sync is
    /// running, so it may hold a partial data set.
    static func lagUnknown(_ state: ReplicationState) -> Bool {
        guard let offset = state.offset, offset > 0, !state.syncInProgress else { return true }
        return false
    }

    /// `failover --promote REPLICA [--others R...]`.
    ///
    /// When the old master answers: pause its writes (CLIENT PAUSE WRITE), wait until REPLICA
    /// has its offset, REPLICAOF NO ONE on REPLICA, repoint the others and the old master,
    /// unpause (its paused writers then get READONLY, nothing acknowledged is lost).
    /// When it does not: promote whichever of REPLICA and the others has the highest offset,
    /// repoint the rest, and say what may have been lost.
    public static func promote(_ replica: ReplicationServer, others: [ReplicationServer], known: [ReplicationServer] = [],
                               options: FailoverOptions = FailoverOptions()) async throws(ReplicationError) -> FailoverReport {
        try await withDeadline(options, command: "failover --promote") { pool throws(ReplicationError) in
            try await promote(replica, others: others, known: known, pool: pool, options: options)
        }
    }

    private static func promote(_ replica: ReplicationServer, others: [ReplicationServer], known: [ReplicationServer],
                                pool: Connections, options: FailoverOptions) async throws(ReplicationError) -> FailoverReport {
        guard let replicaState = await probe(replica, pool: pool) else {
            throw ReplicationError(.connection, "cannot promote \(replica.label): it does not answer INFO replication (nothing was changed)", server: replica.label)
        }
        guard replicaState.isReplica, let oldEndpoint = replicaState.master else {
            throw ReplicationError(.wrongRole, "cannot promote \(replica.label): it is not a replica (its role is \(replicaState.roleName))", server: replica.label)
        }
        let old = named(oldEndpoint, in: known, template: replica)
        var otherStates: [(ReplicationServer, ReplicationState)] = []
        for other in others {
            guard !sameServer(other.endpoint, replica.endpoint) else { continue }
            guard let state = await probe(other, pool: pool) else {
                throw ReplicationError(.connection, "cannot repoint \(other.label) after the failover: it does not answer INFO replication (nothing was changed)", server: other.label)
            }
            guard state.isReplica else {
                throw ReplicationError(.wrongRole, "\(other.label) is not a replica (its role is \(state.roleName)); --others names replicas to repoint", server: other.label)
            }
            otherStates.append((other, state))
        }
        if let oldState = await probe(old, pool: pool) {
            guard !oldState.isReplica else {
                throw ReplicationError(.wrongRole, "\(replica.label) replicates \(old.label), which is itself a replica of \(oldState.master?.description ?? "?"): promote a replica of the top master, or repoint first", server: replica.label)
            }
            return try await promoteWithMaster(replica, replicaState, old: old, oldState: oldState, others: otherStates,
                                               options: options, pool: pool)
        }
        return try await promoteWithoutMaster(replica, replicaState, old: old, others: otherStates, options: options, pool: pool)
    }

    // MARK: - The old master answers

    private static func promoteWithMaster(_ replica: ReplicationServer, _ replicaState: ReplicationState,
                                          old: ReplicationServer, oldState: ReplicationState,
                                          others: [(ReplicationServer, ReplicationState)],
                                          options: FailoverOptions, pool: Connections) async throws(ReplicationError) -> FailoverReport {
        var report = FailoverReport(mode: "promote", dryRun: options.dryRun, oldMaster: old.label, oldMasterEndpoint: old.endpoint, newMaster: replica.name,
                                    newMasterEndpoint: replica.endpoint, steps: [], notes: [], lostBytes: 0, servers: [],
                                    totalMicros: 0)
        let newEndpoint: RedisEndpoint
        let oldEndpoint: RedisEndpoint
        newEndpoint = try ReplicationWait.tcpEndpoint(replica)
        oldEndpoint = try ReplicationWait.tcpEndpoint(old)
        let skipWait = !replicaState.linkUp
        if skipWait {
            let unknown = lagUnknown(replicaState)
            let lag = (oldState.offset ?? 0) - (replicaState.offset ?? 0)
            guard options.force else {
                throw ReplicationError(.unsafe, "refusing to promote \(replica.label): its link to \(old.label) is \(replicaState.link ?? "down")" +
                    (unknown ? " and its lag is unknown" : ", \(lag) bytes behind") + "; use --force to promote it anyway", server: replica.label)
            }
            report.lostBytes = unknown ? nil : lag
            report.notes.append("--force: \(replica.name)'s link is down; writes after its offset \(replicaState.offset.map(String.init) ?? "?") (\(unknown ? "an unknown amount" : "\(lag) bytes")) are lost")
        }
        let followers = [old] + others.filter { !($0.1.master.map { sameServer($0, replica.endpoint) } ?? false) }.map(\.0)
        report.notes += try await checkFollowersCanFollow(replica, followers: followers, pool: pool)
        var plan = FailoverPlan()
        let oldCopy = old
        // The pause ends by itself at the deadline: a master is never left paused, even if
        // redkeep is killed before it can unpause.
        plan.add("pause writes: CLIENT PAUSE (until the --timeout deadline) WRITE", on: old.name, undo: {
            _ = try await pool.on(oldCopy, "CLIENT UNPAUSE") { try await $0.send(RESPCommand("CLIENT", "UNPAUSE")) }
            return "writes resumed"
        }) {
            let pauseMillis = pool.deadline.remainingMilliseconds
            _ = try await pool.on(oldCopy, "CLIENT PAUSE") { try await $0.send(RESPCommand("CLIENT", "PAUSE", String(pauseMillis), "WRITE")) }
            return "writes held for at most \(pauseMillis) ms"
        }
        if !skipWait {
            plan.add("wait until \(replica.name) has \(old.name)'s offset", on: replica.name) {
                let target = try await pool.on(oldCopy, "INFO replication") { try await $0.replicationState() }.offset ?? 0
                let state = try await ReplicationWait.until(replica, "reach offset \(target)", pool: pool) {
                    ($0.offset ?? -1) >= target
                }
                return "offset \(state.offset ?? 0) >= \(target)"
            }
        }
        plan.add("promote: REPLICAOF NO ONE", on: replica.name, undo: {
            try await pool.on(replica, "REPLICAOF") { try await $0.replicaOf(oldEndpoint) }
            return "replica of \(oldEndpoint) again"
        }) {
            try await pool.on(replica, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
            return nil
        }
        for (other, state) in others {
            if let upstream = state.master, sameServer(upstream, replica.endpoint) {
                continue  // already below the new master in a chain
            }
            let previous = state.master
            plan.add("repoint: REPLICAOF \(newEndpoint)", on: other.name, undo: {
                try await pool.on(other, "REPLICAOF") { try await $0.replicaOf(previous) }
                return "replica of \(previous?.description ?? "no one") again"
            }) {
                try await pool.on(other, "REPLICAOF") { try await $0.replicaOf(newEndpoint) }
                return nil
            }
        }
        plan.add("demote: REPLICAOF \(newEndpoint)", on: old.name, undo: {
            try await pool.on(oldCopy, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
            return "master again"
        }) {
            try await pool.on(oldCopy, "REPLICAOF") { try await $0.replicaOf(newEndpoint) }
            return nil
        }
        plan.add("resume: CLIENT UNPAUSE (held writers now get READONLY)", on: old.name) {
            _ = try await pool.on(oldCopy, "CLIENT UNPAUSE") { try await $0.send(RESPCommand("CLIENT", "UNPAUSE")) }
            return nil
        }
        addVerify(&plan, newMaster: replica, followers: followers, pool: pool)
        try await plan.execute(&report, options: options, involved: [old, replica] + others.map(\.0), pool: pool)
        return report
    }

    // MARK: - The old master is gone

    private static func promoteWithoutMaster(_ replica: ReplicationServer, _ replicaState: ReplicationState,
                                             old: ReplicationServer, others: [(ReplicationServer, ReplicationState)],
                                             options: FailoverOptions, pool: Connections) async throws(ReplicationError) -> FailoverReport {
        let candidates = [(replica, replicaState)] + others
        // If any replica still has a live link, the old master runs and only redkeep cannot
        // reach it: promoting now would make two masters.
        if let linked = candidates.first(where: { $0.1.linkUp }), !options.force {
            throw ReplicationError(.unsafe, "\(old.label) does not answer redkeep, but \(linked.0.label)'s link to it is up: it is probably still running; refusing to make a second master (use --force if it really is gone)", server: old.label)
        }
        // Highest offset wins; on a tie, the replica named first.
        var best = candidates[0]
        for candidate in candidates.dropFirst() where (candidate.1.offset ?? -1) > (best.1.offset ?? -1) { best = candidate }
        let (chosen, chosenState) = best
        var report = FailoverReport(mode: "promote", dryRun: options.dryRun, oldMaster: old.label, oldMasterEndpoint: old.endpoint, newMaster: chosen.name,
                                    newMasterEndpoint: chosen.endpoint, steps: [], notes: [], lostBytes: nil, servers: [],
                                    totalMicros: 0)
        if lagUnknown(chosenState) && !options.force {
            throw ReplicationError(.unsafe, "refusing to promote \(chosen.label): its link to \(old.label) is \(chosenState.link ?? "down") and its lag is unknown (\(chosenState.syncInProgress ? "a full sync was running" : "no replication offset")); use --force to promote it anyway", server: chosen.label)
        }
        let newEndpoint: RedisEndpoint
        newEndpoint = try ReplicationWait.tcpEndpoint(chosen)
        if chosen.name != replica.name {
            report.notes.append("\(chosen.name) has the highest offset (\(chosenState.offset ?? 0) against \(replica.name)'s \(replicaState.offset ?? 0)), so it is promoted instead of \(replica.name)")
        }
        let down = chosenState.linkDownSeconds.map { ", link down for \($0) s" } ?? ""
        report.notes.append("\(old.label) does not answer: writes it acknowledged after offset \(chosenState.offset.map(String.init) ?? "?") (\(chosen.name)'s\(down)) reached no replica given and are lost; how many is unknown")
        for (other, state) in candidates where other.name != chosen.name {
            if let o = state.offset, let c = chosenState.offset {
                report.notes.append("\(other.name) is \(c - o) bytes behind \(chosen.name); it catches up from \(chosen.name)")
            }
        }
        report.notes.append("when \(old.label) comes back it is a second master: make it a replica with REPLICAOF \(newEndpoint)")
        report.notes += try await checkFollowersCanFollow(chosen, followers: candidates.map(\.0).filter { $0.name != chosen.name }, pool: pool)
        var plan = FailoverPlan()
        let previous = chosenState.master
        plan.add("promote: REPLICAOF NO ONE", on: chosen.name, undo: {
            try await pool.on(chosen, "REPLICAOF") { try await $0.replicaOf(previous) }
            return "replica of \(previous?.description ?? "no one") again"
        }) {
            try await pool.on(chosen, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
            return "offset \(chosenState.offset ?? 0)"
        }
        var followers: [ReplicationServer] = []
        for (other, state) in candidates where other.name != chosen.name {
            let before = state.master
            followers.append(other)
            plan.add("repoint: REPLICAOF \(newEndpoint)", on: other.name, undo: {
                try await pool.on(other, "REPLICAOF") { try await $0.replicaOf(before) }
                return "replica of \(before?.description ?? "no one") again"
            }) {
                try await pool.on(other, "REPLICAOF") { try await $0.replicaOf(newEndpoint) }
                return nil
            }
        }
        addVerify(&plan, newMaster: chosen, followers: followers, pool: pool)
        try await plan.execute(&report, options: options, involved: candidates.map(\.0) + [old], pool: pool)
        return report
    }

    /// The last step: the new master answers as a master, every follower's link to it is up.
    static func addVerify(_ plan: inout FailoverPlan, newMaster: ReplicationServer, followers: [ReplicationServer], pool: Connections) {
        plan.add("verify: \(newMaster.name) is master, \(followers.isEmpty ? "no replicas to check" : followers.map(\.name).joined(separator: ", ") + " linked to it")", on: newMaster.name) {
            let state = try await ReplicationWait.until(newMaster, "answer as a master", pool: pool) { !$0.isReplica }
            var linked: [String] = []
            for follower in followers {
                _ = try await ReplicationWait.until(follower, "link up to \(newMaster.endpoint)", pool: pool) {
                    $0.linkUp && ($0.master.map { sameServer($0, newMaster.endpoint) } ?? false)
                }
                linked.append(follower.name)
            }
            return "master at offset \(state.offset ?? 0)" + (linked.isEmpty ? "" : "; linked: " + linked.joined(separator: ", "))
        }
    }
}
