/// Why a collector could not start or had to stop: what, against what (server, file,
/// offset, archive object), why, and the underlying error.
public struct CollectorError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The source server or its AOF cannot be followed (AOF off, folder missing...).
        case source
        /// The source server could not be reached.
        case connection
        /// The archive refused or failed (see ``archiveKind``).
        case archive
        /// The request itself is wrong (a bad name or option).
        case invalidRequest
    }

    /// The kind.
    public var kind: Kind
    /// The message.
    public var message: String
    /// For ``Kind/archive``: the archive's own error kind.
    public var archiveKind: ArchiveError.Kind?
    /// What failed underneath.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// An error about the source (the most common kind).
    public init(_ message: String) { self.init(.source, message) }

    /// The archive's error, as the collector's.
    public init(_ error: ArchiveError) {
        self.init(.archive, error.message, underlying: error)
        archiveKind = error.kind
    }

    public var description: String { message }
}
