import RESP
import Synchronization
import RedisClient

extension Failover {
    /// The master Sentinel names for `masterName`, or nil when it monitors no such master.
    static func sentinelMaster(_ sentinel: RedisConnection, _ masterName: String) async throws -> RedisEndpoint? {
        let reply = try await sentinel.send(RESPCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName))
        guard let parts = reply.elements, parts.count == 2, let host = parts[0].string,
              let port = parts[1].string.flatMap(Int.init) else { return nil }
        return .tcp(host: host, port: port)
    }

    /// `failover --sentinel HOST:PORT --master NAME`: wait until Sentinel knows a replica it
    /// can promote, ask it (SENTINEL FAILOVER), follow until it names a new master, verify
    /// the new master answers as one and the old one (if it answers) became its replica.
    /// `known` names servers by address in the report.
    public static func viaSentinel(_ sentinel: ReplicationServer, masterName: String, known: [ReplicationServer] = [],
                                   options: FailoverOptions = FailoverOptions()) async throws(ReplicationError) -> FailoverReport {
        try await withDeadline(options, command: "failover --sentinel") { pool throws(ReplicationError) in
            try await viaSentinel(sentinel, masterName: masterName, known: known, options: options, pool: pool)
        }
    }

    private static func viaSentinel(_ sentinel: ReplicationServer, masterName: String, known: [ReplicationServer],
                                    options: FailoverOptions, pool: Connections) async throws(ReplicationError) -> FailoverReport {
        let oldEndpoint: RedisEndpoint
        do {
            guard let endpoint = try await pool.on(sentinel, "SENTINEL GET-MASTER-ADDR-BY-NAME", { try await sentinelMaster($0, masterName) }) else {
                throw ReplicationError(.sentinel, "Sentinel \(sentinel.label) monitors no master called \(masterName)", server: sentinel.label)
            }
            oldEndpoint = endpoint
        } catch let error as ReplicationError {
            throw error
        } catch {
            throw ReplicationError(.connection, "Sentinel \(sentinel.label) did not answer SENTINEL GET-MASTER-ADDR-BY-NAME \(masterName): \(error)", server: sentinel.label, underlying: error)
        }
        let template = known.first ?? sentinel
        let old = named(oldEndpoint, in: known, template: template)
        var report = FailoverReport(mode: "sentinel", dryRun: options.dryRun, oldMaster: old.label, oldMasterEndpoint: oldEndpoint,
                                    newMaster: "(chosen by Sentinel)", newMasterEndpoint: nil, steps: [], notes: [],
                                    lostBytes: nil, servers: [], totalMicros: 0)
        report.notes.append("Sentinel promotes without pausing the old master's writes: writes acknowledged in the last moments may not have reached the replica it picks (verify-sync first, or use failover --promote for a paused, lossless switch)")
        let timeout = options.timeout
        let found = NewMasterBox()
        var plan = FailoverPlan()
        plan.add("wait until Sentinel knows a replica it can promote: SENTINEL REPLICAS \(masterName)", on: sentinel.name) {
            try await waitForPromotableReplica(sentinel, masterName, pool: pool)
        }
        plan.add("ask: SENTINEL FAILOVER \(masterName)", on: sentinel.name) {
            _ = try await pool.on(sentinel, "SENTINEL FAILOVER") { try await $0.send(RESPCommand("SENTINEL", "FAILOVER", masterName)) }
            return nil
        }
        plan.add("follow: SENTINEL GET-MASTER-ADDR-BY-NAME \(masterName) until it changes", on: sentinel.name) {
            while ContinuousClock.now < pool.until {
                if let now = try await pool.on(sentinel, "SENTINEL GET-MASTER-ADDR-BY-NAME", { try await sentinelMaster($0, masterName) }),
                   !sameServer(now, oldEndpoint) {
                    found.set(now)
                    return "new master \(now)"
                }
                try await Task.sleep(for: min(.milliseconds(20), max(.zero, pool.until - ContinuousClock.now)))
            }
            throw ReplicationError(.timeout, "Sentinel \(sentinel.label) still names \(oldEndpoint) as \(masterName)'s master at the --timeout of \(timeout)", server: sentinel.label)
        }
        plan.add("verify: the new master answers as a master", on: "new master") {
            guard let endpoint = found.get() else { throw ReplicationError(.sentinel, "no new master was reported") }
            let server = named(endpoint, in: known, template: template)
            let state = try await ReplicationWait.until(server, "answer as a master", pool: pool) { !$0.isReplica }
            return "\(server.label): master at offset \(state.offset ?? 0)"
        }
        plan.add("verify: the old master, if it answers, is the new master's replica", on: old.name) {
            guard let endpoint = found.get() else { throw ReplicationError(.sentinel, "no new master was reported") }
            guard let state = await probe(old, pool: pool) else { return "does not answer (Sentinel repoints it when it comes back)" }
            // Sentinel demotes a reachable old master at its next INFO round (up to 10 s); until
            // then there would be two masters, so do now what Sentinel is about to do.
            var note = "replica of \(endpoint)"
            if !state.isReplica {
                try await pool.on(old, "REPLICAOF") { try await $0.replicaOf(endpoint) }
                note += " (Sentinel had not demoted it yet: redkeep sent REPLICAOF \(endpoint), as Sentinel would)"
            }
            _ = try await ReplicationWait.until(old, "become a replica of \(endpoint)", pool: pool) {
                $0.isReplica && ($0.master.map { sameServer($0, endpoint) } ?? false)
            }
            return note
        }
        try await plan.execute(&report, options: options, involved: [old] + known.filter { !sameServer($0.endpoint, old.endpoint) && !sameServer($0.endpoint, sentinel.endpoint) },
                               pool: pool)
        if let endpoint = found.get() {
            report.newMasterEndpoint = endpoint
            report.newMaster = named(endpoint, in: known, template: template).name
        }
        return report
    }

    private static func waitForPromotableReplica(_ sentinel: ReplicationServer, _ masterName: String, pool: Connections) async throws -> String {
        var last = "none listed"
        while true {
            let reply = try await pool.on(sentinel, "SENTINEL REPLICAS \(masterName)") {
                try await $0.send(RESPCommand("SENTINEL", "REPLICAS", masterName))
            }
            var good: [String] = []
            var seen: [String] = []
            for entry in reply.elements ?? [] {
                let fields = sentinelFields(entry)
                let name = fields["name"] ?? "?"
                seen.append("\(name) [\(fields["flags"] ?? "?")]")
                if fields["flags"] == "slave", fields["master-link-status"] == "ok", fields["slave-priority"] != "0" {
                    good.append(name)
                }
            }
            if !good.isEmpty { return good.joined(separator: ", ") }
            if !seen.isEmpty { last = seen.joined(separator: ", ") }
            let left = pool.until - ContinuousClock.now
            if left <= .zero {
                throw ReplicationError(.timeout, "Sentinel \(sentinel.label) knows no replica of \(masterName) it could promote within the --timeout of \(pool.deadline.timeout) (replicas: \(last))", server: sentinel.label)
            }
            try await Task.sleep(for: min(left, .milliseconds(50)))
        }
    }

    /// A Sentinel entry (a flat array of names and values, or a RESP3 map) as a dictionary.
    static func sentinelFields(_ value: RESPValue) -> [String: String] {
        var fields: [String: String] = [:]
        switch value {
        case .map(let pairs):
            for pair in pairs { fields[pair.key.string ?? ""] = pair.value.string ?? "" }
        case .array(let flat):
            for i in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[i].string ?? ""] = flat[i + 1].string ?? "" }
        default:
            break
        }
        return fields
    }
}

/// The new master's address, found by one step and read by the later ones.
final class NewMasterBox: Sendable {
    private let value = Mutex<RedisEndpoint?>(nil)
    func set(_ endpoint: RedisEndpoint) { value.withLock { $0 = endpoint } }
    func get() -> RedisEndpoint? { value.withLock { $0 } }
}
