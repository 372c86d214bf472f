import Foundation
import Operations
import RESP
import RedisClient

/// verify-sync and replicas: named connections in, reports out.
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
            throw ShellError.from(error, doing: "verify-sync", at: location)
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
            throw ShellError.from(error, doing: "replicas", at: location)
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
}
