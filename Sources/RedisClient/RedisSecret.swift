/// A password that does not print itself.
///
/// `description`, `debugDescription` and string interpolation all show `<secret>`, so a
/// password cannot reach a log, an error message or history by accident. Only the
/// connection reads ``revealed`` to send AUTH.
public struct RedisSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The password itself. Read it only to send it to the server.
    public let revealed: String

    /// Wraps a password.
    public init(_ password: String) { self.revealed = password }

    /// Reads a password from the environment variable `name`; nil when it is unset.
    public static func fromEnvironment(_ name: String, environment: [String: String]) -> RedisSecret? {
        environment[name].map(RedisSecret.init)
    }

    /// Always `<secret>`.
    public var description: String { "<secret>" }
    /// Always `<secret>`.
    public var debugDescription: String { "<secret>" }
}
