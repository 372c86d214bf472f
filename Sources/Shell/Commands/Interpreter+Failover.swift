import Operations
import RESP
import RedisClient

/// failover: connection names in, a failover report out, connections repointed after.
extension Interpreter {
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

    func failoverSentinel(_ sentinelName: String, master: String, tls: TLSOptions, _ options: FailoverOptions,
                          at location: SourceLocation) async throws -> RESPValue {
        let sentinel: ReplicationServer
        if connections[sentinelName] != nil {
            guard !tls.given else {
                throw ShellError(.usage, "failover --sentinel \(sentinelName) names a connection, which has its own TLS settings: the TLS options are for a Sentinel given by address", at: location)
            }
            sentinel = try replicationServer(sentinelName, at: location)
        } else {
            var configuration: RedisConnectionConfiguration
            do {
                configuration = try RedisConnectionConfiguration(url: sentinelName)
            } catch {
                throw ShellError(.usage, "failover --sentinel takes a connection name, host:port or a redis:// or rediss:// URL, not \"\(RedisConnectionConfiguration.redacted(sentinelName))\" (\(error.message); \(knownConnections))", at: location)
            }
            do { try tls.apply(to: &configuration) } catch { throw ShellError(error.kind, error.message, at: location) }
            if configuration.tls?.verification == RedisTLSConfiguration.Verification.none {
                self.configuration.output.writeError(TLSOptions.insecureWarning(configuration.endpoint) + "\n")
            }
            sentinel = ReplicationServer(name: configuration.endpoint.description, configuration: configuration)
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
            throw ShellError.from(error, doing: "", at: location)
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
