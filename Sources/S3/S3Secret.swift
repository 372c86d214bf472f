/// A secret access key or session token that does not print itself.
///
/// `description`, `debugDescription`, string interpolation and `dump` all show `<secret>`,
/// so a key cannot reach a log, an error message or history by accident. Only the signer
/// reads ``revealed`` (and a tool that must hand the key on, such as the Lab writing the
/// identities file of a local store it started).
public struct S3Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Read it only to sign or to hand it on.
    public let revealed: String

    /// Wraps a secret.
    public init(_ value: String) { self.revealed = value }

    /// Always `<secret>`.
    public var description: String { "<secret>" }
    /// Always `<secret>`.
    public var debugDescription: String { "<secret>" }
    /// No children, so `dump` and mirrors show nothing of the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
