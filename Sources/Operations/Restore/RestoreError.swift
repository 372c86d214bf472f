/// A roll-forward that cannot be done, or stopped: what, against which archive object or
/// server, why, how far it got, and the underlying error.
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The request is wrong (options, a destination that exists).
        case invalidRequest
        /// The archive cannot serve the target (before its first base, in a gap, after
        /// its end, an unknown mark).
        case notInArchive
        /// The archive is damaged or incomplete (a missing or altered object).
        case damagedArchive
        /// The archive could not be read (I/O, an unreachable store).
        case archiveUnavailable
        /// A safety check refused the target (the archive's own source, keys present).
        case refusedTarget
        /// The target server failed, refused commands or went away.
        case target
        /// Files being written (an AOF folder) could not be written.
        case destination
    }

    /// The kind.
    public var kind: Kind
    /// The message.
    public var message: String
    /// What the target acknowledged before the failure, when anything was applied.
    public var progress: ReplayOutcome?
    /// What failed underneath.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, progress: ReplayOutcome? = nil, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.progress = progress
        self.underlying = underlying
    }

    /// An archive problem, as a restore's.
    public init(archive archiveKind: ArchiveError.Kind, _ message: String, progress: ReplayOutcome? = nil, underlying: (any Error & Sendable)? = nil) {
        let kind: Kind = switch archiveKind {
        case .missing, .damaged, .notAnArchive, .newerFormat: .damagedArchive
        case .invalidRequest: .invalidRequest
        case .locked, .unreachable, .refused, .io: .archiveUnavailable
        }
        self.init(kind, message, progress: progress, underlying: underlying)
    }

    /// An archive error, as a restore's.
    public init(_ error: ArchiveError, progress: ReplayOutcome? = nil) {
        self.init(archive: error.kind, error.message, progress: progress, underlying: error)
    }

    /// A message about the archive's contents (the most common: a damaged object).
    public init(_ message: String, progress: ReplayOutcome? = nil) {
        self.init(.damagedArchive, message, progress: progress)
    }

    public var description: String { message }
}
