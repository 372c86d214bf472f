/// Bad input to a marketplace operation, or a market in a state the operation cannot use:
/// the message says what was attempted, against which server, and why.
public struct MarketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole explanation.
    public var message: String
    /// Creates an error with its message.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
