/// A roll-forward that cannot be done, or stopped: what, against which file or server,
/// and how far it got.
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    /// The message.
    public let message: String
    /// What was applied before the failure, when anything was.
    public let progress: ReplayOutcome?

    /// Creates an error.
    public init(_ message: String, progress: ReplayOutcome? = nil) {
        self.message = message
        self.progress = progress
    }

    public var description: String { message }
}
