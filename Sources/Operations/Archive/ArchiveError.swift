/// A problem with an archive folder: what, which file (and line or offset), why.
public struct ArchiveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message, naming the archive file it concerns.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
