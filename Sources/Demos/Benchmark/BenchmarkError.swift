/// A benchmark that cannot run as asked: bad options, an unreadable or malformed CSV, a
/// reference tool that failed. The message says what, where and why.
public struct BenchmarkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole explanation.
    public var message: String
    /// Creates an error with its message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
