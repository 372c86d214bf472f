/// The keys of an archive's objects, relative to the archive (a folder or a bucket
/// prefix), so an archive can be copied or moved whole:
///
/// ```
/// archive.json                          ArchiveDescriptor: format, source
/// gen-000001/base.rdb                   a base file (base.aof for a command base)
/// stream-000001/000000000000.chunk      bytes of an incr file, named by start offset
/// ```
/// How the index is kept is the store's choice (see ``ArchiveStore``).
public enum ArchiveLayout {
    /// `archive.json`.
    public static let descriptorKey = "archive.json"
    /// `index.jsonl`, a folder archive's index.
    public static let indexKey = "index.jsonl"

    /// `gen-NNNNNN/base.rdb` or `base.aof`.
    public static func basePath(gen: Int, format: BaseFormat) -> String { "gen-\(padded(gen, 6))/base.\(format.rawValue)" }
    /// `stream-NNNNNN`.
    public static func streamFolder(_ stream: Int) -> String { "stream-\(padded(stream, 6))" }
    /// `stream-NNNNNN/OOOOOOOOOOOO.chunk`: chunks sort by offset by name.
    public static func chunkPath(stream: Int, offset: Int) -> String { streamFolder(stream) + "/\(padded(offset, 12)).chunk" }

    static func padded(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

/// What a generation's base file holds.
public enum BaseFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// An RDB snapshot (`REDIS00NN...`): Redis's default AOF base (`aof-use-rdb-preamble yes`).
    case rdb
    /// Redis commands, like an incr file.
    case aof
}

/// `archive.json`: what the archive is of.
public struct ArchiveDescriptor: Sendable, Hashable, Codable {
    /// The archive format; readers refuse a newer one.
    public var format: Int
    /// When the archive was created (unix seconds).
    public var created: Double
    /// The server it collects from (`host:port`), for people.
    public var source: String
    /// The server's `run_id` when the archive was created.
    public var runId: String?
    /// The AOF folder followed.
    public var aofDirectory: String?
    /// `redis_version` (or Valkey's) of the source.
    public var serverVersion: String?
    /// The source's replication id (`master_replid`) when the archive was created: a
    /// restore refuses a target that shares it (the source itself, or a replica of it).
    public var replicationId: String?

    /// The format this code writes.
    public static let currentFormat = 1

    /// Creates a descriptor of the current format.
    public init(created: Double, source: String, runId: String? = nil, aofDirectory: String? = nil, serverVersion: String? = nil,
                replicationId: String? = nil) {
        self.format = Self.currentFormat
        self.created = created
        self.source = source
        self.runId = runId
        self.aofDirectory = aofDirectory
        self.serverVersion = serverVersion
        self.replicationId = replicationId
    }
}

extension ArchiveLayout {
    /// True for the keys of bases and chunks (`gen-*/base.*`, `stream-*/*.chunk`): the
    /// objects an index record must name.
    public static func isDataObject(_ key: String) -> Bool {
        let parts = key.split(separator: "/")
        guard parts.count == 2 else { return false }
        if parts[0].hasPrefix("gen-") { return parts[1].hasPrefix("base.") }
        if parts[0].hasPrefix("stream-") { return parts[1].hasSuffix(".chunk") }
        return false
    }
}
