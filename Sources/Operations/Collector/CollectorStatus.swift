/// What a collector is doing, as `chunk status` shows it.
public struct CollectorStatus: Sendable, Hashable {
    /// Running, stopping (copying what is pending), stopped, or failed (see ``lastError``).
    public enum State: String, Sendable, Hashable { case starting, running, rewriting, stopping, stopped, failed }

    /// The collector's name.
    public var name: String
    /// What it is doing.
    public var state: State
    /// The server, `host:port`.
    public var source: String
    /// The archive folder.
    public var archive: String
    /// The AOF folder followed.
    public var aofDirectory: String
    /// `multi-part` (Redis 7+) or `single-file` (Redis <= 6).
    public var mode: String
    /// The incr files followed now (kept open), oldest first.
    public var files: [String]
    /// Bytes written to the followed files and not yet archived (at the last sample).
    public var bytesBehind: Int
    /// Chunks and bytes copied since this collector started.
    public var chunks: Int
    public var bytesCopied: Int
    /// Generations (bases) copied since it started.
    public var generations: Int
    /// Unix seconds of the last chunk copied, if any.
    public var lastCopy: Double?
    /// Bytes per second copied over the last minute or so.
    public var rate: Double
    /// Unix seconds of the next scheduled BGREWRITEAOF.
    public var nextRewrite: Double?
    /// Scheduled rewrites done.
    public var rewrites: Int
    /// Errors seen (each is retried at the next interval), and the last one.
    public var errors: Int
    public var lastError: String?
    /// Conditions worth knowing (auto-rewrite on...).
    public var warnings: [String]
    /// For an archive in object storage: the spool, the upload backlog and the last
    /// upload error (nil for a folder archive).
    public var upload: ArchiveUploadStatus?
    /// A collector started with `--replica`: its replication link (nil for AOF files).
    public var replica: ReplicaLinkStatus?

    /// A status before the first pass.
    public init(name: String, source: String, archive: String) {
        self.name = name
        self.state = .starting
        self.source = source
        self.archive = archive
        self.aofDirectory = ""
        self.mode = ""
        self.files = []
        self.bytesBehind = 0
        self.chunks = 0
        self.bytesCopied = 0
        self.generations = 0
        self.lastCopy = nil
        self.rate = 0
        self.nextRewrite = nil
        self.rewrites = 0
        self.errors = 0
        self.lastError = nil
        self.warnings = []
        self.replica = nil
    }
}
