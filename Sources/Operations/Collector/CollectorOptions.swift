/// How a collector copies: where to, how much at a time, how fast, and when to rewrite.
public struct CollectorOptions: Sendable, Hashable {
    /// The archive: a folder (created when missing) or `s3://BUCKET/PREFIX`.
    public var archive: String
    /// For an `s3://` archive: the endpoint URL (nil: from the environment).
    public var s3Endpoint: String?
    /// For an `s3://` archive: the local folder where chunks wait for their upload (nil:
    /// `redkeep-spool-NAME` next to the AOF folder). See ``ForwardingArchiveStore``.
    public var spool: String?
    /// For an `s3://` archive: the CPU priority of the shipping (the upload thread and its
    /// network I/O), never of the copying. See ``UploadPriority``.
    public var uploadPriority = UploadPriority.default
    /// The AOF folder to follow: the one holding the manifest (Redis 7+) or the single
    /// `appendonly.aof` (Redis <= 6). Nil: what CONFIG GET dir/appenddirname says.
    public var aofDirectory: String?
    /// The largest chunk, in bytes; one command larger than this makes one larger chunk.
    public var chunkSize: Int
    /// The sleep between two chunks, to spread the reads (and the network traffic of a
    /// remote archive folder) over time.
    public var pause: Duration
    /// How often the size of the incr file is sampled and new bytes copied.
    public var interval: Duration
    /// Reads are capped at this many bytes per second (nil: no cap).
    public var rate: Int?
    /// A daily local time (hour, minute) for a scheduled BGREWRITEAOF.
    public var rewriteAt: RewriteSchedule.TimeOfDay?
    /// A scheduled BGREWRITEAOF every so often, from the start.
    public var rewriteEvery: Duration?
    /// How long a scheduled rewrite may take before the collector reports it and resumes.
    public var rewriteTimeout: Duration
    /// Collect as a replica (the replication stream) instead of following AOF files.
    public var replica = false

    /// Creates options with the defaults of `chunk start`.
    public init(archive: String, aofDirectory: String? = nil, chunkSize: Int = 4 << 20, pause: Duration = .milliseconds(100),
                interval: Duration = .seconds(1), rate: Int? = 50 << 20, rewriteAt: RewriteSchedule.TimeOfDay? = nil,
                rewriteEvery: Duration? = nil, rewriteTimeout: Duration = .seconds(3600)) {
        self.archive = archive
        self.aofDirectory = aofDirectory
        self.chunkSize = chunkSize
        self.pause = pause
        self.interval = interval
        self.rate = rate
        self.rewriteAt = rewriteAt
        self.rewriteEvery = rewriteEvery
        self.rewriteTimeout = rewriteTimeout
    }
}
