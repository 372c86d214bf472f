/// The one deadline of a whole replication command (`failover`, `verify-sync`): fixed when
/// the command starts, so `--timeout` bounds the command, not each wait inside it.
struct CommandDeadline: Sendable {
    /// The range `--timeout` must fall in: long enough for one round trip and a poll, short
    /// enough that a mistyped value cannot hold a master's writes paused for hours.
    static let allowed: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3600)

    /// How long each undo step (unpause the old master, repoint) of a failover that stopped
    /// may take, even past the deadline: they must be attempted. Each has its own bound, so
    /// one frozen server cannot use up the time of the undo steps on the others.
    static let undoStepBound: Duration = .seconds(1)

    /// How long reading each server's final state for the report may take (concurrently).
    static let stateBound: Duration = .seconds(1)

    /// The `--timeout` given.
    let timeout: Duration
    /// When the command must end.
    let instant: ContinuousClock.Instant

    /// Starts the clock now; throws for a `--timeout` outside ``allowed``.
    init(_ timeout: Duration, command: String) throws(ReplicationError) {
        guard Self.allowed.contains(timeout) else {
            throw ReplicationError(.invalidRequest, "\(command) --timeout must be from 100ms to 1h, not \(timeout)")
        }
        self.timeout = timeout
        self.instant = ContinuousClock.now + timeout
    }

    /// Time left, zero once passed.
    var remaining: Duration { max(.zero, instant - ContinuousClock.now) }

    /// The time left in whole milliseconds, at least 1 (for server-side timeouts: WAIT,
    /// CLIENT PAUSE, where 0 would mean forever).
    var remainingMilliseconds: Int { max(1, SyncVerifier.milliseconds(remaining)) }
}

/// What a race against an instant ended with.
enum RaceOutcome<T: Sendable>: Sendable {
    case finished(T)
    case timedOut
}

/// Runs `body` until `instant`: its result, or `.timedOut` when the instant passed first (the
/// body is then cancelled, which closes the connection it was waiting on, so a frozen
/// server cannot hold the caller).
func race<T: Sendable>(until instant: ContinuousClock.Instant,
                       _ body: @escaping @Sendable () async throws -> T) async throws -> RaceOutcome<T> {
    try await withThrowingTaskGroup(of: RaceOutcome<T>.self) { group in
        group.addTask { .finished(try await body()) }
        group.addTask {
            try? await Task.sleep(until: instant, clock: .continuous)
            return .timedOut
        }
        defer { group.cancelAll() }
        return try await group.next() ?? .timedOut
    }
}
