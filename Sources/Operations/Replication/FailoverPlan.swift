import RedisClient

/// How a failover runs.
public struct FailoverOptions: Sendable {
    /// Print the plan only.
    public var dryRun: Bool
    /// Promote a replica whose link is down and whose lag is unknown.
    public var force: Bool
    /// The longest any one wait inside the failover may take.
    public var timeout: Duration
    /// Called before each step runs (index, title): where a rehearsal injects a fault.
    public var beforeStep: (@Sendable (Int, String) async -> Void)?

    /// Creates options: run for real, no force, 10 s per wait.
    public init(dryRun: Bool = false, force: Bool = false, timeout: Duration = .seconds(10),
                beforeStep: (@Sendable (Int, String) async -> Void)? = nil) {
        self.dryRun = dryRun
        self.force = force
        self.timeout = timeout
        self.beforeStep = beforeStep
    }
}

/// A failover plan: steps that run in order, each with an optional undo that runs (in
/// reverse order) when a later step fails, so a failed failover leaves the old layout
/// rather than two masters.
struct FailoverPlan: Sendable {
    struct Step: Sendable {
        var title: String
        var server: String
        var action: @Sendable () async throws -> String?
        var undo: (@Sendable () async throws -> String?)?
    }

    var steps: [Step] = []

    mutating func add(_ title: String, on server: String, undo: (@Sendable () async throws -> String?)? = nil,
                      _ action: @escaping @Sendable () async throws -> String?) {
        steps.append(Step(title: title, server: server, action: action, undo: undo))
    }

    /// Runs the plan (or only lists it for a dry run). On a failure: marks the rest
    /// `not run`, runs the undos of the steps that ran, reads every server's state, and
    /// throws with the whole story.
    func execute(_ report: inout FailoverReport, options: FailoverOptions, involved: [ReplicationServer]) async throws(ReplicationError) {
        report.steps = steps.map { FailoverStep(title: $0.title, server: $0.server) }
        guard !options.dryRun else { return }
        let clock = ContinuousClock()
        let started = clock.now
        for (index, step) in steps.enumerated() {
            await options.beforeStep?(index, step.title)
            let begin = clock.now
            do {
                report.steps[index].note = try await step.action()
                report.steps[index].status = .done
                report.steps[index].micros = SyncVerifier.micros(clock.now - begin)
            } catch {
                report.steps[index].status = .failed
                report.steps[index].micros = SyncVerifier.micros(clock.now - begin)
                report.steps[index].note = "\(error)"
                for later in (index + 1)..<steps.count { report.steps[later].status = .notRun }
                for earlier in steps[..<index].reversed() {
                    guard let undo = earlier.undo else { continue }
                    let undoBegin = clock.now
                    var undone = FailoverStep(title: "undo: \(earlier.title)", server: earlier.server)
                    do {
                        undone.note = try await undo()
                        undone.status = .done
                    } catch {
                        undone.status = .failed
                        undone.note = "\(error)"
                    }
                    undone.micros = SyncVerifier.micros(clock.now - undoBegin)
                    report.steps.append(undone)
                }
                report.servers = await Self.states(involved)
                report.totalMicros = SyncVerifier.micros(clock.now - started)
                let masters = report.servers.filter(\.isMaster).map(\.name)
                if masters.count > 1 {
                    report.notes.append("WARNING: \(masters.joined(separator: " and ")) both answer as masters; make one a replica of the other")
                }
                throw ReplicationError("failover stopped at step \(index + 1) (\(step.title) on \(step.server)): \(error)\n\(report.summary)",
                                       failover: report)
            }
        }
        report.servers = await Self.states(involved)
        report.totalMicros = SyncVerifier.micros(clock.now - started)
    }

    /// Every server's role and master, read now (1 s to answer).
    static func states(_ servers: [ReplicationServer]) async -> [ServerOutcome] {
        var outcomes: [ServerOutcome] = []
        for server in servers {
            let outcome: ServerOutcome
            do {
                let connection = try await server.sibling(server.endpoint, name: server.name)
                    .open(connectTimeout: .seconds(1), commandTimeout: .seconds(2))
                defer { Task { await connection.close() } }
                let state = try await connection.replicationState()
                let words = state.isReplica
                    ? "replica of \(state.master?.description ?? "?") (link \(state.link ?? "?"))"
                    : state.roleName
                outcome = ServerOutcome(name: server.name, address: server.endpoint.description, state: words,
                                        isMaster: !state.isReplica)
            } catch {
                outcome = ServerOutcome(name: server.name, address: server.endpoint.description, state: "does not answer",
                                        isMaster: false)
            }
            outcomes.append(outcome)
        }
        return outcomes
    }
}

/// Waits shared by the failover modes.
enum ReplicationWait {
    /// Polls `server` every 10 ms until `condition` holds on its INFO replication; throws
    /// after `timeout` saying what was last seen.
    static func until(_ server: ReplicationServer, _ what: String, timeout: Duration,
                      _ condition: @Sendable (ReplicationState) -> Bool) async throws -> ReplicationState {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var last = "no answer"
        var connection: RedisConnection?
        defer {
            if let connection, connection !== server.connection { Task { await connection.close() } }
        }
        while true {
            do {
                if connection?.isOpen != true {
                    connection = try await server.open(connectTimeout: .seconds(1), commandTimeout: .seconds(2))
                }
                let state = try await connection!.replicationState()
                if condition(state) { return state }
                last = state.isReplica
                    ? "replica of \(state.master?.description ?? "?"), link \(state.link ?? "?"), offset \(state.offset.map(String.init) ?? "?")\(state.syncInProgress ? ", full sync running" : "")"
                    : "\(state.roleName), offset \(state.offset.map(String.init) ?? "?")"
            } catch {
                last = "\(error)"
                connection = nil
            }
            if clock.now >= deadline {
                throw ReplicationError("\(server.label) did not \(what) within \(timeout) (last seen: \(last))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The server's TCP address, which replicas need for REPLICAOF.
    static func tcpEndpoint(_ server: ReplicationServer) throws(ReplicationError) -> RedisEndpoint {
        guard case .tcp = server.endpoint else {
            throw ReplicationError("\(server.label) is reached over a unix socket; replicas need its TCP address: connect to it by host:port")
        }
        return server.endpoint
    }
}
