extension CommandDeadline {
    /// A drill's one deadline, started now. The drill's own bounds (``ArchiveDrillOptions/timeoutRange``,
    /// up to 24 h: a restore of a large archive takes long) are checked by
    /// ``ArchiveDrillOptions`` before, so this does not apply the replication commands' range.
    init(drill timeout: Duration) {
        self.timeout = timeout
        self.instant = ContinuousClock.now + timeout
    }
}

extension ArchiveDrill {
    /// Runs one step of the drill within what is left of its deadline: `--timeout` bounds
    /// the whole drill, so a step that hangs (a frozen server during the connect or the
    /// checks, a connection's own 30 s timeout) is cut at the deadline, with an error naming
    /// the step. The step is cancelled then, which closes the connection it waits on; the
    /// capture still lifts its CLIENT PAUSE on that path (``unpause(_:_:)`` runs in a task
    /// of its own, which the cancelled step waits for).
    static func step<T: Sendable>(_ doing: String, within deadline: CommandDeadline,
                                  _ body: @escaping @Sendable () async throws(ArchiveDrillError) -> T) async throws(ArchiveDrillError) -> T {
        guard deadline.remaining > .zero else { throw timedOut(deadline.timeout, doing) }
        let outcome: RaceOutcome<Result<T, ArchiveDrillError>>
        do {
            outcome = try await race(until: deadline.instant) { () async -> Result<T, ArchiveDrillError> in
                do throws(ArchiveDrillError) { return .success(try await body()) } catch { return .failure(error) }
            }
        } catch {
            // The body reports its errors as a Result: only a cancelled caller ends here.
            throw ArchiveDrillError(.timeout, "the drill was interrupted while \(doing)", underlying: error)
        }
        switch outcome {
        case .timedOut: throw timedOut(deadline.timeout, doing)
        case .finished(let result): return try result.get()
        }
    }
}
