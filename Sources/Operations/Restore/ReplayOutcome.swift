/// What a roll-forward applied and what it left out, for the report.
public struct ReplayOutcome: Sendable {
    /// A place in the archive: a stream and a byte offset in its incr file.
    public struct Position: Sendable, Hashable, CustomStringConvertible {
        public let stream: Int
        public let offset: Int
        public var description: String { "stream \(stream) byte \(offset)" }
    }

    /// A MULTI block not applied because the cut (or the archive's end) came before its EXEC.
    public struct RolledBack: Sendable, Hashable {
        /// Where its MULTI is.
        public let at: Position
        /// Commands queued after MULTI before the cut.
        public let commands: Int
        /// Why it was left out.
        public let reason: String
    }

    /// A last command cut short (the archive ends inside it): not applied.
    public struct Truncated: Sendable, Hashable {
        public let at: Position
        public let bytes: Int
    }

    /// The generation whose base was loaded.
    public var generation: Int
    /// Commands applied (MULTI and EXEC included), after the base.
    public var commands = 0
    /// Bytes of those commands.
    public var bytes = 0
    /// Keys loaded from the base, when it went through DUMP/RESTORE or as commands.
    public var baseKeys: Int?
    /// Base keys restored with the TTL they had at the target (`--ttl-as-of-target`).
    public var baseKeysTTLShifted = 0
    /// Base keys alive at the target second whose expiry passed before the restore:
    /// left out (without `--ttl-as-of-target`), counted so they are not dropped silently.
    public var baseKeysExpiredSinceTarget = 0
    /// Base keys whose expiry was at or before the target second: left out either way.
    public var baseKeysExpiredBeforeTarget = 0
    /// Base keys copied through a temporary server (no RESTORE payload could be made).
    public var baseKeysThroughTemporaryServer = 0
    /// Which keys went through the temporary server and why no payload could be made for
    /// them (`key "k" in db 0: reason`), the first ``maxNamedKeys`` of them.
    public var baseKeysThroughTemporaryServerWhy: [String] = []
    /// How many keys the report names at most: the count says how many there were.
    public static let maxNamedKeys = 10
    /// Incr commands whose absolute expiry was moved to keep the TTL it had at the
    /// target (`--ttl-as-of-target`).
    public var incrExpiriesShifted = 0
    /// Incr commands giving their key an absolute expiry after the target but before the
    /// restore (without `--ttl-as-of-target`): the key was alive at the target and the
    /// server deleted it on replay; counted so it is not dropped silently.
    public var incrExpiriesPassedSinceTarget = 0
    /// `#TS` second of the first and last applied command.
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    /// Transactions applied whole.
    public var transactions = 0
    /// Transactions left out.
    public var rolledBack: [RolledBack] = []
    /// The truncated last command, if any.
    public var truncated: Truncated?
    /// Where reading stopped (the first entry not applied), nil when it read everything.
    public var stoppedAt: Position?
    /// Why it stopped.
    public var stopReason = "end of the archive"
    /// Error replies from the target (the commands stay applied, as Redis's loader would),
    /// counted in the archive's commands: an error reply to an MSET that carried 500 SETs
    /// counts 500.
    public var errorReplies = 0
    /// Plain SETs of the stream sent inside MSETs (see ``SetRunMerger``).
    public var setsSentAsMSET = 0
    /// The first error reply and where its command is.
    public var firstError: String?
    /// True when Ctrl-C stopped the replay.
    public var interrupted = false
    /// What the restore wants its reader to know that is not a problem with the data:
    /// chunks downloaded twice because the local spool had no room for them, say.
    public var notes: [String] = []
    /// Seconds the whole restore took.
    public var duration: Double = 0

    /// Creates an empty outcome.
    public init(generation: Int) { self.generation = generation }

    /// Commands per second over the whole restore.
    public var commandsPerSecond: Double { duration > 0 ? Double(commands) / duration : 0 }
}
