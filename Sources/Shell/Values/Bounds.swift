import ArgumentParser

/// The limits every number a command takes is checked against, named so a message can say
/// which rule refused a value. Checked in the commands' `validate()` (or in the transform of
/// a duration option), so a bad value is a usage error before anything runs.
enum Bounds {
    /// A TCP port.
    static let port = 1...65535
    /// Connections one command opens at once (benchmark clients, market buyers).
    static let clients = 1...1_000
    /// Commands in one pipeline.
    static let pipeline = 1...100_000
    /// Requests of one benchmark test.
    static let requests = 1...1_000_000_000
    /// Users and items of the market demo.
    static let marketUsers = 1...100_000
    static let marketItems = 0...100_000
    /// E-dollars: funds and prices of the market demo.
    static let money: ClosedRange<Int64> = 0...1_000_000_000_000
    /// Rows a table shows.
    static let rows = 0...10_000_000
    /// How long a wait may last (timeouts).
    static let wait: ClosedRange<Duration> = .milliseconds(1) ... .seconds(7 * 86_400)
    /// A failover's or a replication check's whole budget (Operations refuses others).
    static let failover: ClosedRange<Duration> = .milliseconds(100) ... .seconds(3600)
    /// How long a demo or benchmark runs.
    static let run: ClosedRange<Duration> = .milliseconds(1) ... .seconds(86_400)
    /// A database number (Redis allows as many as its `databases` setting).
    static let database = 0...1_000_000
    /// The largest reply a connection accepts (`connect --max-reply-size`).
    static let replySize = 1 << 10 ... 1 << 40
    /// A pause inside a demo (0 allowed).
    static let pause: ClosedRange<Duration> = .zero ... .seconds(60)

    /// Throws a usage error unless `value` is within `range`.
    static func check<T: Comparable & CustomStringConvertible>(_ value: T, _ range: ClosedRange<T>, _ option: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
    }

    /// A transform for a duration `@Option`: parses `500ms`, `5s`, `2m` and checks `range`.
    static func duration(_ option: String, in range: ClosedRange<Duration>) -> @Sendable (String) throws -> Duration {
        { text in
            guard let value = DurationText.parse(text) else {
                throw ValidationError("\(option) takes a duration like 500ms, 5s or 1m, not \"\(text.prefix(80))\"")
            }
            guard range.contains(value) else {
                throw ValidationError("\(option) must be from \(DurationText.format(range.lowerBound)) to \(DurationText.format(range.upperBound)), not \(text.prefix(80))")
            }
            return value
        }
    }
}
