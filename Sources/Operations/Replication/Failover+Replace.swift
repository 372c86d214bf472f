import Foundation
import RESP
import RedisClient
#if canImport(Glibc)
import Glibc
#endif

extension Failover {
    /// `failover --replace MASTER --with NEW --from REPLICA`: the book's listing 4.4. Machine A
    /// (MASTER) is lost, B (REPLICA) holds the data, C (NEW) becomes the master: NEW gets a
    /// full copy of REPLICA (SAVE on REPLICA and the dump copied into NEW's folder when both
    /// are servers of `lab` and NEW runs without AOF; REPLICAOF REPLICA otherwise), NEW is
    /// promoted, REPLICA becomes NEW's replica.
    public static func replace(master: ReplicationServer, with new: ReplicationServer, from replica: ReplicationServer,
                               lab: Lab?, options: FailoverOptions = FailoverOptions()) async throws(ReplicationError) -> FailoverReport {
        try await withDeadline(options, command: "failover --replace") { pool throws(ReplicationError) in
            try await replace(master: master, with: new, from: replica, lab: lab, options: options, pool: pool)
        }
    }

    private static func replace(master: ReplicationServer, with new: ReplicationServer, from replica: ReplicationServer,
                                lab: Lab?, options: FailoverOptions, pool: Connections) async throws(ReplicationError) -> FailoverReport {
        for (a, b) in [(master, new), (master, replica), (new, replica)] where sameServer(a.endpoint, b.endpoint) {
            throw ReplicationError(.invalidRequest, "failover --replace needs three different servers, but \(a.label) and \(b.label) are the same", server: a.label)
        }
        if let state = await probe(master, pool: pool), !state.isReplica {
            throw ReplicationError(.unsafe, "\(master.label) still answers as a master: replacing it would leave two masters; stop it first, or use failover --promote \(replica.name)", server: master.label)
        }
        guard let replicaState = await probe(replica, pool: pool) else {
            throw ReplicationError(.connection, "cannot copy the data from \(replica.label): it does not answer", server: replica.label)
        }
        guard replicaState.isReplica else {
            throw ReplicationError(.wrongRole, "\(replica.label) is not a replica (its role is \(replicaState.roleName)); --from names the replica that holds the lost master's data", server: replica.label)
        }
        if let upstream = replicaState.master, !sameServer(upstream, master.endpoint) {
            throw ReplicationError(.wrongRole, "\(replica.label) replicates \(upstream), not \(master.label)", server: replica.label)
        }
        if lagUnknown(replicaState) && !options.force {
            throw ReplicationError(.unsafe, "refusing to copy \(replica.label): its link to \(master.label) is \(replicaState.link ?? "down") and its lag is unknown (\(replicaState.syncInProgress ? "a full sync was running" : "no replication offset")); use --force to use it anyway", server: replica.label)
        }
        guard let newState = await probe(new, pool: pool) else {
            throw ReplicationError(.connection, "cannot make \(new.label) the new master: it does not answer", server: new.label)
        }
        if !newState.isReplica, !newState.replicas.isEmpty {
            throw ReplicationError(.wrongRole, "\(new.label) is a master with \(newState.replicas.count) replica(s) of its own; its data would be replaced: pick an idle server", server: new.label)
        }
        let newEndpoint: RedisEndpoint
        let replicaEndpoint: RedisEndpoint
        newEndpoint = try ReplicationWait.tcpEndpoint(new)
        replicaEndpoint = try ReplicationWait.tcpEndpoint(replica)

        // Both local and NEW without an AOF (which it would load instead of a dump): copy the dump.
        var copyFiles = false
        var newFiles: (dir: String, file: String)?
        var newKeys = 0
        if let lab, let newLocal = new.localServer, replica.localServer != nil, await lab.server(newLocal) != nil {
            if let config = try? await pool.on(new, "CONFIG GET *", { try await $0.configGet("*") }),
               config["appendonly"] == "no", let dir = config["dir"], let file = config["dbfilename"] {
                copyFiles = true
                newFiles = (dir, file)
            }
        }
        newKeys = (try? await pool.on(new, "DBSIZE") { try await $0.send(RESPCommand("DBSIZE")).int }) ?? 0

        var report = FailoverReport(mode: "replace", dryRun: options.dryRun, oldMaster: master.label, oldMasterEndpoint: master.endpoint, newMaster: new.name,
                                    newMasterEndpoint: newEndpoint, steps: [], notes: [], lostBytes: nil, servers: [],
                                    totalMicros: 0)
        report.notes.append("\(master.label) is lost: writes it acknowledged after offset \(replicaState.offset.map(String.init) ?? "?") (what \(replica.name) got\(replicaState.linkDownSeconds.map { ", link down for \($0) s" } ?? "")) are lost")
        if newKeys > 0 { report.notes.append("\(new.name)'s \(newKeys) key(s) are replaced by \(replica.name)'s data") }
        report.notes.append(copyFiles ? "both servers are local: \(replica.name)'s dump is copied into \(new.name)'s folder"
                                      : "\(new.name) copies \(replica.name) by replication (REPLICAOF)")
        // REPLICA ends following NEW; without the dump copy, NEW first follows REPLICA.
        report.notes += try await checkFollowersCanFollow(new, followers: [replica], pool: pool)
        if !copyFiles { report.notes += try await checkFollowersCanFollow(replica, followers: [new], pool: pool) }
        var plan = FailoverPlan()
        let previous = replicaState.master
        if copyFiles, let lab, let newLocal = new.localServer, let newFiles {
            let destination = (newFiles.dir as NSString).appendingPathComponent(newFiles.file)
            plan.add("snapshot: SAVE", on: replica.name) {
                let config = try await pool.on(replica, "SAVE") { connection in
                    _ = try await connection.send(RESPCommand("SAVE"))
                    return try await connection.configGet("*")
                }
                let path = ((config["dir"] ?? ".") as NSString).appendingPathComponent(config["dbfilename"] ?? "dump.rdb")
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                return "\(path), \(size) bytes"
            }
            plan.add("stop \(new.name) (local server)", on: new.name) {
                try await lab.stop(newLocal)
                return nil
            }
            plan.add("copy the dump to \(destination)", on: new.name) {
                let config = try await pool.on(replica, "CONFIG GET *") { try await $0.configGet("*") }
                let source = ((config["dir"] ?? ".") as NSString).appendingPathComponent(config["dbfilename"] ?? "dump.rdb")
                let bytes = try copyDurably(from: source, to: destination)
                return "\(bytes) bytes from \(source)"
            }
            plan.add("start \(new.name) on its dump (local server)", on: new.name) {
                try await lab.restart(newLocal)
                let keys = try await pool.on(new, "DBSIZE") { try await $0.send(RESPCommand("DBSIZE")).int } ?? 0
                return "\(keys) key(s) loaded"
            }
        } else {
            // A replica whose master link is down refuses to feed replicas (NOMASTERLINK), so
            // REPLICA first stops following the lost master; it is the only master meanwhile.
            plan.add("detach from the lost master: REPLICAOF NO ONE", on: replica.name, undo: {
                try await pool.on(replica, "REPLICAOF") { try await $0.replicaOf(previous) }
                return "replica of \(previous?.description ?? "no one") again"
            }) {
                try await pool.on(replica, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
                return nil
            }
            plan.add("copy by replication: REPLICAOF \(replicaEndpoint)", on: new.name, undo: {
                try await pool.on(new, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
                return "master again (its old data is gone)"
            }) {
                try await pool.on(new, "REPLICAOF") { try await $0.replicaOf(replicaEndpoint) }
                return nil
            }
            plan.add("wait until \(new.name) has \(replica.name)'s data", on: new.name) {
                let target = try await pool.on(replica, "INFO replication") { try await $0.replicationState() }.offset ?? 0
                let state = try await ReplicationWait.until(new, "finish its sync from \(replica.name)", pool: pool) {
                    $0.linkUp && !$0.syncInProgress && ($0.offset ?? -1) >= target
                }
                return "offset \(state.offset ?? 0)"
            }
        }
        plan.add("promote: REPLICAOF NO ONE", on: new.name) {
            try await pool.on(new, "REPLICAOF NO ONE") { try await $0.replicaOf(nil) }
            return nil
        }
        plan.add("repoint: REPLICAOF \(newEndpoint)", on: replica.name, undo: {
            try await pool.on(replica, "REPLICAOF") { try await $0.replicaOf(previous) }
            return "replica of \(previous?.description ?? "no one") again"
        }) {
            try await pool.on(replica, "REPLICAOF") { try await $0.replicaOf(newEndpoint) }
            return nil
        }
        addVerify(&plan, newMaster: new, followers: [replica], pool: pool)
        plan.add("compare the data: DBSIZE", on: new.name) {
            let a = try await pool.on(new, "DBSIZE") { try await $0.send(RESPCommand("DBSIZE")).int } ?? -1
            let b = try await pool.on(replica, "DBSIZE") { try await $0.send(RESPCommand("DBSIZE")).int } ?? -1
            guard a == b else { throw ReplicationError(.mismatch, "\(new.name) has \(a) key(s) but \(replica.name) has \(b)") }
            return "\(a) key(s) on both"
        }
        try await plan.execute(&report, options: options, involved: [master, replica, new], pool: pool)
        return report
    }

    /// Copies a file to `destination` through a temporary name, fsync'd, then renamed, so a
    /// crash never leaves half a dump where a server would load it. Streams 1 MiB at a time
    /// (dumps can be large). Returns the byte count.
    static func copyDurably(from source: String, to destination: String) throws(ReplicationError) -> Int {
        let input = open(source, O_RDONLY)
        guard input >= 0 else { throw ReplicationError(.files, "cannot read the dump \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let temporary = destination + ".redkeep-\(getpid()).tmp"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard output >= 0 else { throw ReplicationError(.files, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        var failure: String?
        copying: while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 { failure = "cannot read \(source) at byte \(total): \(String(cString: strerror(errno)))"; break }
            if n == 0 { break }
            var done = 0
            while done < n {
                let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + done, n - done) }
                if w <= 0 { failure = "cannot write \(temporary) at byte \(total + done): \(String(cString: strerror(errno)))"; break copying }
                done += w
            }
            total += n
        }
        if failure == nil, fsync(output) != 0 { failure = "cannot fsync \(temporary): \(String(cString: strerror(errno)))" }
        close(output)
        if let failure {
            unlink(temporary)
            throw ReplicationError(.files, failure)
        }
        guard rename(temporary, destination) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw ReplicationError(.files, "cannot rename \(temporary) to \(destination): \(why)")
        }
        // The rename itself reaches disk with the folder's fsync.
        let folder = open((destination as NSString).deletingLastPathComponent, O_RDONLY)
        if folder >= 0 { fsync(folder); close(folder) }
        return total
    }
}
