/// Why a local server could not be started, stopped or reached: one complete sentence
/// naming the server, its port or folder, and the cause (with the last lines of its log
/// when the server itself said why).
public struct LabError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole message.
    public var message: String

    /// Creates an error with a complete message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
