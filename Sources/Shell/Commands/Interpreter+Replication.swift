import Foundation
import Operations
import RESP
import RedisClient

/// verify-sync, replicas and failover: named connections in, reports out.
extension Interpreter {
    /// A connection of the table as a replication server (its open connection if it has one).
    func replicationServer(_ name: String, at location: SourceLocation?) throws -> ReplicationServer {
        guard let entry = connections[name] else {
            throw ShellError(.usage, "unknown connection \(name) (\(knownConnections))", at: location)
        }
        let open = entry.connection?.isOpen == true ? entry.connection : nil
        return ReplicationServer(name: name, configuration: entry.configuration, connection: open, localServer: entry.localServer)
    }

    /// Every connection, so servers found by address get their names.
    var knownServers: [ReplicationServer] {
        connections.names.compactMap { try? replicationServer($0, at: nil) }
    }

    // MARK: - verify-sync

    func verifySync(_ masterName: String, _ replicaNames: [String], _ options: SyncCheckOptions, noFail: Bool,
                    at location: SourceLocation) async throws -> RESPValue {
        // The master through the table (opened and kept for the next run); a replica that
        // does not answer is reported, not fatal.
        let master = try replicationServer(masterName, at: location)
        do {
            _ = try await connection(masterName, at: location)
        } catch let error as ShellError where error.kind == .connection {
            throw ShellError(.connection, "verify-sync: master \(master.label) does not answer: \(error.message)", at: location)
        }
        var replicas: [ReplicationServer] = []
        for name in replicaNames {
            _ = try? await connection(name, at: location)
            replicas.append(try replicationServer(name, at: location))
        }
        let report: SyncReport
        do {
            report = try await SyncVerifier.verify(master: master, replicas: replicas, options: options)
        } catch {
            throw ShellError(.script, "verify-sync: \(error.message)", at: location)
        }
        if !report.ok && !noFail {
            let failures = report.replicas.filter { !$0.ok }.map { replica -> String in
                let why = replica.problem ?? Self.fsyncText(replica.fsync).1 ?? "not confirmed"
                return "\(replica.name) (\(replica.address)): \(why)"
            }
            throw ShellError(.script, "verify-sync from \(report.master) (\(report.masterAddress)) failed for " +
                             failures.joined(separator: "; ") + " (--no-fail reports instead of stopping)", at: location)
        }
        let seen = report.replicas.compactMap(\.seenMicros)
        return .report([
            ("ok", .boolean(report.ok)),
            ("master", .text("\(report.master) (\(report.masterAddress))")),
            ("method", .text(report.method)),
            ("wait_acked", report.waitAcknowledged.map { .integer(Int64($0)) } ?? .null),
            ("total_ms", Self.ms(report.totalMicros)),
            ("max_seen_ms", seen.max().map { Self.ms($0) } ?? .null),
            ("token", .text(report.token)),
            ("replicas", .array(report.replicas.map(Self.replicaRow))),
        ])
    }

    static func replicaRow(_ r: ReplicaSyncResult) -> RESPValue {
        let (fsync, note) = fsyncText(r.fsync)
        var fsyncMicros: Int?
        var method: String?
        if case .confirmed(let m, let micros) = r.fsync { method = m; fsyncMicros = micros }
        return .report([
            ("name", .text(r.name)),
            ("address", .text(r.address)),
            ("level", r.level.map { .integer(Int64($0)) } ?? .null),
            ("link", .text(r.link)),
            ("offset_lag", r.offsetLag.map { .integer(Int64($0)) } ?? .null),
            ("seen_ms", r.seenMicros.map { ms($0) } ?? .null),
            ("fsync", .text(fsync)),
            ("fsync_ms", fsyncMicros.map { ms($0) } ?? .null),
            ("fsync_method", .text(method ?? note ?? "-")),
            ("ok", .boolean(r.ok)),
            ("problem", r.problem.map { .text($0) } ?? .null),
        ])
    }

    /// The fsync outcome's word, and its explanation when not confirmed.
    static func fsyncText(_ outcome: FsyncOutcome) -> (String, String?) {
        switch outcome {
        case .notAsked: return ("not asked", nil)
        case .confirmed: return ("confirmed", nil)
        case .notConfirmed(let why): return ("not confirmed", why)
        case .noAOF: return ("no AOF", "the replica runs without an AOF (appendonly no): nothing reaches disk until a snapshot")
        }
    }

    /// Microseconds as milliseconds with microsecond precision.
    static func ms(_ micros: Int) -> RESPValue { .double(Double(micros) / 1000) }

    // MARK: - replicas

    func replicationTree(_ name: String?, at location: SourceLocation) async throws -> RESPValue {
        let (connectionName, _) = try await connection(name, at: location)
        let origin = try replicationServer(connectionName, at: location)
        let nodes: [ReplicationNode]
        do {
            nodes = try await ReplicationTree.discover(from: origin)
        } catch {
            throw ShellError(.script, "replicas: \(error.message)", at: location)
        }
        let known = knownServers
        func label(_ node: ReplicationNode) -> String {
            let name = known.first { sameServer($0.endpoint, node.endpoint) }?.name
            let here = node.isOrigin ? " (here)" : ""
            return node.treePrefix + (name.map { "\($0) \(node.endpoint)" } ?? node.endpoint.description) + here
        }
        let rows: [RESPValue] = nodes.map { node in
            var fields: [(String, RESPValue)] = [
                ("tree", .text(label(node))),
                ("depth", .integer(Int64(node.depth))),
                ("role", .text(node.role)),
                ("offset", node.offset.map { .integer(Int64($0)) } ?? .null),
                ("lag_bytes", node.lagBytes.map { .integer(Int64($0)) } ?? .null),
                ("lag_s", node.lagSeconds.map { .integer(Int64($0)) } ?? .null),
                ("link", node.link.map { .text($0) } ?? .null),
                ("sync", .boolean(node.syncInProgress)),
                ("state", node.state.map { .text($0) } ?? .null),
            ]
            if let problem = node.problem { fields.append(("problem", .text(problem))) }
            return .report(fields)
        }
        return .report([
            ("server", .text(origin.label)),
            ("top", .text(nodes.first.map { label($0) } ?? "-")),
            ("count", .integer(Int64(nodes.count))),
            ("nodes", .array(rows)),
        ])
    }

    // MARK: - failover

    func failoverPromote(_ replicaName: String, others: [String], _ options: FailoverOptions,
                         at location: SourceLocation) async throws -> RESPValue {
        let replica = try replicationServer(replicaName, at: location)
        let otherServers = try others.map { try replicationServer($0, at: location) }
        return try await finishFailover(at: location) {
            try await Failover.promote(replica, others: otherServers, known: knownServers, options: options)
        }
    }

    func failoverReplace(_ masterName: String, with newName: String, from replicaName: String, _ options: FailoverOptions,
                         at location: SourceLocation) async throws -> RESPValue {
        let master = try replicationServer(masterName, at: location)
        let new = try replicationServer(newName, at: location)
        let replica = try replicationServer(replicaName, at: location)
        let lab = self.lab
        return try await finishFailover(at: location) {
            try await Failover.replace(master: master, with: new, from: replica, lab: lab, options: options)
        }
    }

    func failoverSentinel(_ sentinelName: String, master: String, _ options: FailoverOptions,
                          at location: SourceLocation) async throws -> RESPValue {
        let sentinel: ReplicationServer
        if connections[sentinelName] != nil {
            sentinel = try replicationServer(sentinelName, at: location)
        } else {
            do {
                let endpoint = try RedisEndpoint(parsing: sentinelName)
                sentinel = ReplicationServer(name: endpoint.description, configuration: RedisConnectionConfiguration(endpoint: endpoint))
            } catch {
                throw ShellError(.usage, "failover --sentinel takes a connection name or host:port, not \"\(sentinelName)\" (\(knownConnections))", at: location)
            }
        }
        var known: [ReplicationServer] = []
        for server in knownServers where server.name != sentinel.name {
            if let local = server.localServer, await lab?.server(local)?.sentinelOf != nil { continue }
            known.append(server)
        }
        return try await finishFailover(at: location) {
            try await Failover.viaSentinel(sentinel, masterName: master, known: known, options: options)
        }
    }

    /// Runs a failover, repoints connections after a real one, and makes the report.
    private func finishFailover(at location: SourceLocation,
                                _ body: () async throws -> FailoverReport) async throws -> RESPValue {
        let report: FailoverReport
        do {
            report = try await body()
        } catch let error as ReplicationError {
            throw ShellError(.script, error.message, at: location)
        }
        var repointed: [String] = []
        if !report.dryRun, let old = report.oldMasterEndpoint, let new = report.newMasterEndpoint {
            repointed = await repoint(from: old, to: new)
        }
        return .report([
            ("mode", .text(report.mode)),
            ("dry_run", .boolean(report.dryRun)),
            ("completed", .boolean(report.completed)),
            ("old_master", .text(report.oldMaster)),
            ("new_master", .text(report.newMaster)),
            ("new_master_address", .text(report.newMasterEndpoint?.description ?? "-")),
            ("lost_bytes", report.lostBytes.map { .integer(Int64($0)) } ?? .null),
            ("total_ms", Self.ms(report.totalMicros)),
            ("steps", .array(report.steps.enumerated().map { index, step in
                .report([
                    ("step", .integer(Int64(index + 1))),
                    ("action", .text(step.title)),
                    ("server", .text(step.server)),
                    ("status", .text(step.status.rawValue)),
                    ("ms", step.micros.map { Self.ms($0) } ?? .null),
                    ("note", step.note.map { .text($0) } ?? .null),
                ])
            })),
            ("notes", .array(report.notes.map { .text($0) })),
            ("servers", .array(report.servers.map { server in
                .report([("name", .text(server.name)), ("address", .text(server.address)), ("state", .text(server.state))])
            })),
            ("repointed", .array(repointed.map { .text($0) })),
        ])
    }

    /// After a failover: connections to the old master that are not a local server's own
    /// now go to the new master (reconnecting on next use), and the current connection
    /// moves to the new master's if it was the old master's. Returns what changed.
    func repoint(from old: RedisEndpoint, to new: RedisEndpoint) async -> [String] {
        var changed: [String] = []
        let newName = connections.names.first { connections[$0].map { sameServer($0.configuration.endpoint, new) } ?? false }
        if let current = connections.current, let entry = connections[current], sameServer(entry.configuration.endpoint, old),
           let newName, newName != current {
            connections.current = newName
            changed.append("current connection: \(current) -> \(newName)")
        }
        for name in connections.names {
            guard var entry = connections[name], entry.localServer == nil, sameServer(entry.configuration.endpoint, old) else { continue }
            await entry.connection?.close()
            entry.connection = nil
            entry.configuration.endpoint = new
            connections[name] = entry
            changed.append("\(name): \(old) -> \(new)")
        }
        return changed
    }
}
