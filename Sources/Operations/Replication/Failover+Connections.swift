import RedisClient
import Synchronization

extension Failover {
    /// The connections a failover opened itself, one per server, closed when it ends, and
    /// the bound every exchange on them runs under: the command's deadline, then (once a
    /// step has failed) each undo step's short bound.
    ///
    /// A caller's connection is never used: the shell's wait 30 s for a reply, and a reply
    /// abandoned at the deadline closes the connection it was waiting on.
    final class Connections: Sendable {
        let deadline: CommandDeadline
        private struct State {
            var byServer: [String: RedisConnection] = [:]
            var opened: [RedisConnection] = []
            var until: ContinuousClock.Instant
        }
        private let state: Mutex<State>

        init(_ deadline: CommandDeadline) {
            self.deadline = deadline
            state = Mutex(State(until: deadline.instant))
        }

        /// When exchanges must end now: the deadline, or the undo bound after a failure.
        var until: ContinuousClock.Instant { state.withLock { $0.until } }

        /// Gives the next undo step its own short bound, counted from now (past the deadline).
        func allowUndoStep() {
            let bound = ContinuousClock.now + CommandDeadline.undoStepBound
            state.withLock { $0.until = bound }
        }

        /// Runs `body` on this failover's connection to `server` (opened when missing),
        /// ending by `limit` (else by ``until``). Throws naming the server and `what` when it
        /// does not answer in time.
        func on<T: Sendable>(_ server: ReplicationServer, _ what: String, limit: Duration? = nil,
                             _ body: @escaping @Sendable (RedisConnection) async throws -> T) async throws -> T {
            let end = limit.map { min(until, ContinuousClock.now + $0) } ?? until
            let outcome = try await race(until: end) {
                try await body(try await self.connection(server, until: end))
            }
            switch outcome {
            case .finished(let value):
                return value
            case .timedOut:
                forget(server)
                let within: String
                if end > deadline.instant {
                    within = "the undo bound of \(CommandDeadline.undoStepBound)"
                } else if end == deadline.instant {
                    within = "the --timeout of \(deadline.timeout)"
                } else {
                    within = "\(limit ?? deadline.timeout)"
                }
                throw ReplicationError(.timeout, "\(server.label) did not answer \(what) within \(within)", server: server.label)
            }
        }

        private func connection(_ server: ReplicationServer, until end: ContinuousClock.Instant) async throws -> RedisConnection {
            let key = server.endpoint.description
            if let open = state.withLock({ $0.byServer[key] }), open.isOpen { return open }
            var own = server
            own.connection = nil
            let left = max(.milliseconds(1), end - ContinuousClock.now)
            let connection = try await own.open(boundedBy: left)
            state.withLock {
                $0.byServer[key] = connection
                $0.opened.append(connection)
            }
            return connection
        }

        /// Drops a connection whose reply was abandoned (a late reply would answer the next command).
        private func forget(_ server: ReplicationServer) {
            let dropped = state.withLock { $0.byServer.removeValue(forKey: server.endpoint.description) }
            dropped?.abort()
        }

        func closeAll() async {
            for connection in state.withLock({ $0.opened }) { await connection.close() }
        }
    }

    /// Runs a failover mode with one deadline for the whole command and its own connections,
    /// closed however it ends.
    static func withDeadline(_ options: FailoverOptions, command: String,
                             _ body: (Connections) async throws(ReplicationError) -> FailoverReport) async throws(ReplicationError) -> FailoverReport {
        let pool = Connections(try CommandDeadline(options.timeout, command: command))
        do {
            let report = try await body(pool)
            await pool.closeAll()
            return report
        } catch {
            await pool.closeAll()
            throw error
        }
    }
}
