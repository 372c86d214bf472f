import RedisClient

/// How a failover runs.
public struct FailoverOptions: Sendable {
    /// Print the plan only.
    public var dryRun: Bool
    /// Promote a replica whose link is down and whose lag is unknown.
    public var force: Bool
    /// The longest the whole failover may take (100ms to 1h), from its first probe to its
    /// last check; only its undo steps (1 s each) and the final state reads (1 s) may run
    /// on past it.
    public var timeout: Duration
    /// Called before each step runs (index, title): where a rehearsal injects a fault.
    public var beforeStep: (@Sendable (Int, String) async -> Void)?

    /// Creates options: run for real, no force, 10 s for the whole failover.
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

    /// Runs the plan (or only lists it for a dry run), every step ending by the failover's
    /// deadline. On a failure: marks the rest `not run`, runs the undos of the steps that
    /// ran (with their own short bound, even past the deadline), reads every server's state,
    /// and throws with the whole story.
    func execute(_ report: inout FailoverReport, options: FailoverOptions, involved: [ReplicationServer],
                 pool: Failover.Connections) async throws(ReplicationError) {
        report.steps = steps.map { FailoverStep(title: $0.title, server: $0.server) }
        guard !options.dryRun else { return }
        let clock = ContinuousClock()
        let started = clock.now
        for (index, step) in steps.enumerated() {
            await options.beforeStep?(index, step.title)
            let begin = clock.now
            do {
                // A step's own exchanges end at the deadline with the server named; this
                // catches anything else (a sleep, a local file copy) a moment later.
                switch try await race(until: pool.until + .milliseconds(200), step.action) {
                case .finished(let note):
                    report.steps[index].note = note
                case .timedOut:
                    throw ReplicationError(.timeout, "it did not finish within the --timeout of \(pool.deadline.timeout)")
                }
                report.steps[index].status = .done
                report.steps[index].micros = SyncVerifier.micros(clock.now - begin)
            } catch {
                report.steps[index].status = .failed
                report.steps[index].micros = SyncVerifier.micros(clock.now - begin)
                report.steps[index].note = "\(error)"
                for later in (index + 1)..<steps.count { report.steps[later].status = .notRun }
                let undone = await undo(steps[..<index], into: &report, pool: pool)
                report.servers = await Self.states(involved)
                report.totalMicros = SyncVerifier.micros(clock.now - started)
                let masters = report.servers.filter(\.isMaster).map(\.name)
                if masters.count > 1 {
                    report.notes.append("WARNING: \(masters.joined(separator: " and ")) both answer as masters; make one a replica of the other")
                }
                throw ReplicationError(.stopped, "failover stopped at step \(index + 1) (\(step.title) on \(step.server)): \(error); \(undone)\n\(report.summary)",
                                       server: step.server, failover: report, underlying: error)
            }
        }
        report.servers = await Self.states(involved)
        report.totalMicros = SyncVerifier.micros(clock.now - started)
    }

    /// Runs the undos of `ran` in reverse, each within ``CommandDeadline/undoStepBound`` (the
    /// deadline may have passed: a paused master must still be unpaused). Returns what was
    /// undone, in words.
    private func undo(_ ran: ArraySlice<Step>, into report: inout FailoverReport, pool: Failover.Connections) async -> String {
        let clock = ContinuousClock()
        var done: [String] = []
        var failed: [String] = []
        for earlier in ran.reversed() {
            guard let undo = earlier.undo else { continue }
            pool.allowUndoStep()
            let undoBegin = clock.now
            var undone = FailoverStep(title: "undo: \(earlier.title)", server: earlier.server)
            do {
                switch try await race(until: pool.until + .milliseconds(100), undo) {
                case .finished(let note):
                    undone.note = note
                    undone.status = .done
                    done.append("\(earlier.title) on \(earlier.server)")
                case .timedOut:
                    throw ReplicationError(.timeout, "no answer within the undo bound of \(CommandDeadline.undoStepBound)")
                }
            } catch {
                undone.status = .failed
                undone.note = "\(error)"
                failed.append("\(earlier.title) on \(earlier.server) (\(error))")
            }
            undone.micros = SyncVerifier.micros(clock.now - undoBegin)
            report.steps.append(undone)
        }
        if done.isEmpty && failed.isEmpty { return "nothing needed undoing" }
        return (done.isEmpty ? "" : "undone: " + done.joined(separator: ", "))
            + (failed.isEmpty ? "" : (done.isEmpty ? "" : "; ") + "COULD NOT UNDO: " + failed.joined(separator: ", "))
    }

    /// Every server's role and master, read now, concurrently (each within
    /// ``CommandDeadline/stateBound``, so a frozen server reads as `does not answer`).
    static func states(_ servers: [ReplicationServer]) async -> [ServerOutcome] {
        let end = ContinuousClock.now + CommandDeadline.stateBound
        var outcomes: [ServerOutcome?] = Array(repeating: nil, count: servers.count)
        await withTaskGroup(of: (Int, ServerOutcome).self) { group in
            for (index, server) in servers.enumerated() {
                group.addTask { (index, await state(of: server, until: end)) }
            }
            for await (index, outcome) in group { outcomes[index] = outcome }
        }
        return outcomes.compactMap { $0 }
    }

    private static func state(of server: ReplicationServer, until end: ContinuousClock.Instant) async -> ServerOutcome {
        let fresh = server.sibling(server.endpoint, name: server.name)
        let read = try? await race(until: end) {
            let connection = try await fresh.open(boundedBy: CommandDeadline.stateBound)
            defer { Task { await connection.close() } }
            return try await connection.replicationState()
        }
        guard case .finished(let state) = read else {
            return ServerOutcome(name: server.name, address: server.endpoint.description, state: "does not answer", isMaster: false)
        }
        let words = state.isReplica
            ? "replica of \(state.master?.description ?? "?") (link \(state.link ?? "?"))"
            : state.roleName
        return ServerOutcome(name: server.name, address: server.endpoint.description, state: words, isMaster: !state.isReplica)
    }
}

/// Waits shared by the failover modes.
enum ReplicationWait {
    /// Polls `server` every 10 ms until `condition` holds on its INFO replication; throws at
    /// the failover's deadline saying what was last seen.
    static func until(_ server: ReplicationServer, _ what: String, pool: Failover.Connections,
                      _ condition: @escaping @Sendable (ReplicationState) -> Bool) async throws -> ReplicationState {
        var last = "no answer"
        while true {
            do {
                let state = try await pool.on(server, "INFO replication") { try await $0.replicationState() }
                if condition(state) { return state }
                last = state.isReplica
                    ? "replica of \(state.master?.description ?? "?"), link \(state.link ?? "?"), offset \(state.offset.map(String.init) ?? "?")\(state.syncInProgress ? ", full sync running" : "")"
                    : "\(state.roleName), offset \(state.offset.map(String.init) ?? "?")"
            } catch {
                last = "\(error)"
            }
            let left = pool.until - ContinuousClock.now
            if left <= .zero {
                throw ReplicationError(.timeout, "\(server.label) did not \(what) within the --timeout of \(pool.deadline.timeout) (last seen: \(last))", server: server.label)
            }
            try await Task.sleep(for: min(left, .milliseconds(10)))
        }
    }

    /// The server's TCP address, which replicas need for REPLICAOF.
    static func tcpEndpoint(_ server: ReplicationServer) throws(ReplicationError) -> RedisEndpoint {
        guard case .tcp = server.endpoint else {
            throw ReplicationError(.invalidRequest, "\(server.label) is reached over a unix socket; replicas need its TCP address: connect to it by host:port", server: server.label)
        }
        return server.endpoint
    }
}
