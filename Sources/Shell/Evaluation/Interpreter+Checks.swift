import RESP

/// `assert` and `wait-until`: a condition checked, and when it fails the operands' values
/// said, as they were when checked (each operand is evaluated once: showing a failure
/// never runs a command again) and with what reads like a password hidden.
extension Interpreter {
    /// How often `wait-until --every` may check: at least 1 ms apart (0 would spin),
    /// at most an hour.
    static let waitPollBounds: ClosedRange<Duration> = .milliseconds(1) ... .seconds(3600)

    func executeAssert(_ statement: Statement) async throws -> RESPValue? {
        let (condition, messageWord) = try Expression.parse(Array(statement.words.dropFirst()), allowTrailing: true, at: statement.location)
        let check = try await self.check(condition)
        if check.holds { return nil }
        var message = "assertion failed"
        if let messageWord { message += ": " + SecretFilter.redactValue(try await expandText(messageWord)) }
        message += " (" + check.shown + ")"
        throw ShellError(.script, message, at: statement.location)
    }

    /// `wait-until EXPR [--timeout D] [--every D]`: `--timeout` bounds the whole wait, a
    /// condition that is itself waiting (`$(BLPOP q 0)`) included.
    func executeWaitUntil(_ statement: Statement) async throws -> RESPValue? {
        var words = Array(statement.words.dropFirst())
        var timeout: Duration = .seconds(10)
        var every: Duration = .milliseconds(50)
        // Options come after the condition: --timeout D, --every D.
        while words.count >= 2, let option = words[words.count - 2].bareText, option == "--timeout" || option == "--every" {
            let text = try await expandText(words[words.count - 1])
            let bounds = option == "--timeout" ? Bounds.wait : Self.waitPollBounds
            let duration: Duration
            do { duration = try Bounds.duration(option, in: bounds)(text) } catch {
                throw ShellError(.usage, "wait-until: \(error)", at: words[words.count - 1].location)
            }
            if option == "--timeout" { timeout = duration } else { every = duration }
            words.removeLast(2)
        }
        let (condition, _) = try Expression.parse(words, allowTrailing: false, at: statement.location)
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        var last: String?
        while true {
            guard let check = try await self.check(condition, before: deadline) else { break }
            if check.holds {
                let waited = clock.now - start
                return quiet > 0 ? .report(["waited_ms": .integer(waited.wholeMilliseconds)]) : nil
            }
            last = check.shown
            let now = clock.now
            if now >= deadline { break }
            try await Task.sleep(until: min(now + every, deadline), clock: clock)
        }
        let state = last.map { "the condition is still false (\($0))" } ?? "the condition was still being evaluated, and was stopped"
        throw ShellError(.script, "wait-until gave up after \(DurationText.format(timeout)): \(state)", at: statement.location)
    }

    /// Checks `condition`, giving up at `deadline`: nil then, and the command the check
    /// was waiting on is closed (as Ctrl-C closes it; the next statement reconnects).
    private func check(_ condition: Expression, before deadline: ContinuousClock.Instant) async throws -> Check? {
        try await withThrowingTaskGroup(of: Check?.self) { group in
            group.addTask { [commandInFlight] in
                try await withTaskCancellationHandler {
                    try await self.check(condition)
                } onCancel: {
                    commandInFlight.abort()
                }
            }
            group.addTask {
                try await Task.sleep(until: deadline, clock: ContinuousClock())
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish decides; the other is cancelled (its error, if any, is moot).
            return try await group.next() ?? nil
        }
    }

    /// A condition's truth and how it reads with its operands' values:
    /// `${info.role} == "master"` reads `slave == master`.
    struct Check: Sendable {
        var holds: Bool
        var shown: String
    }

    /// Evaluates `expression` as ``evaluate(_:)`` does (the same short-circuits), noting
    /// each operand's value as it goes; an operand not evaluated reads `(not reached)`.
    func check(_ expression: Expression) async throws -> Check {
        func shown(_ value: RESPValue) -> String {
            let raw = value.string ?? (value == .null ? "nil" : String(decoding: value.substitutionBytes ?? [], as: UTF8.self))
            let text = SecretFilter.redactValue(raw)
            return text.contains(" ") || text.isEmpty ? "\"\(text)\"" : text
        }
        switch expression {
        case .operand(let word):
            let value = try await value(of: word)
            return Check(holds: value.isTruthy, shown: shown(value))
        case .compare(let l, let op, let r):
            let left = try await value(of: l)
            let right = try await value(of: r)
            return Check(holds: compare(left, op, right), shown: "\(shown(left)) \(op) \(shown(right))")
        case .exists(let name, _):
            let holds = variables[name] != nil
            return Check(holds: holds, shown: "exists \(name): \(holds)")
        case .not(let e):
            let inner = try await check(e)
            return Check(holds: !inner.holds, shown: "not " + inner.shown)
        case .and(let a, let b):
            let first = try await check(a)
            guard first.holds else { return Check(holds: false, shown: "\(first.shown) and (not reached)") }
            let second = try await check(b)
            return Check(holds: second.holds, shown: "\(first.shown) and \(second.shown)")
        case .or(let a, let b):
            let first = try await check(a)
            if first.holds { return Check(holds: true, shown: "\(first.shown) or (not reached)") }
            let second = try await check(b)
            return Check(holds: second.holds, shown: "\(first.shown) or \(second.shown)")
        }
    }
}
