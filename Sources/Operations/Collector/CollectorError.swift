/// Why a collector could not start or had to stop: what, against what (server, file,
/// offset), why.
public struct CollectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
