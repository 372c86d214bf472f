/// A problem with an archive: what, which object (file or bucket key, and offset or
/// line), why, and the underlying error when there was one.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem, for callers that react differently (exit codes, retries).
    public enum Kind: Sendable, Hashable {
        /// The location holds no archive, or something else than an archive.
        case notAnArchive
        /// The archive's format is newer than this redkeep reads.
        case newerFormat
        /// An object the index names is missing.
        case missing
        /// An object differs from its record (size, sha256) or does not parse.
        case damaged
        /// Another writer holds the archive.
        case locked
        /// The store could not be reached (network, endpoint down).
        case unreachable
        /// The store refused (permissions, credentials, a missing bucket).
        case refused
        /// Reading or writing failed (disk full, I/O error).
        case io
        /// The request itself is wrong (a bad location, option or name).
        case invalidRequest
    }

    /// The kind.
    public var kind: Kind
    /// The message, naming the archive object it concerns.
    public var message: String
    /// The object concerned (`DIR/KEY` or `s3://BUCKET/KEY`), when there is one.
    public var object: String?
    /// What failed underneath (an I/O or HTTP error), when anything did.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, object: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.object = object
        self.underlying = underlying
    }

    /// An error of kind ``Kind/io`` (the most common: a file could not be read or written).
    public init(_ message: String) { self.init(.io, message) }

    public var description: String { message }
}
