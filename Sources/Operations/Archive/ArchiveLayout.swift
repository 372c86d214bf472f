/// Where things are inside an archive folder. Every path a record holds is relative to
/// the archive, so the folder can be copied (rsync) or moved whole.
///
/// ```
/// ARCHIVE/
///   archive.json                          ArchiveDescriptor: format, source
///   index.jsonl                           ArchiveRecord lines, appended and fsync'd
///   gen-000001/base.rdb                   a base file (base.aof for a command base)
///   stream-000001/000000000000.chunk      bytes of an incr file, named by start offset
/// ```
public struct ArchiveLayout: Sendable, Hashable {
    /// The archive folder.
    public let root: String

    /// Wraps a folder path.
    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    /// `archive.json`.
    public var descriptorPath: String { root + "/archive.json" }
    /// `index.jsonl`.
    public var indexPath: String { root + "/index.jsonl" }

    /// `gen-NNNNNN/base.rdb` or `base.aof`, relative.
    public static func basePath(gen: Int, format: String) -> String { "gen-\(padded(gen, 6))/base.\(format)" }
    /// `stream-NNNNNN`, relative.
    public static func streamFolder(_ stream: Int) -> String { "stream-\(padded(stream, 6))" }
    /// `stream-NNNNNN/OOOOOOOOOOOO.chunk`, relative: chunks sort by offset by name.
    public static func chunkPath(stream: Int, offset: Int) -> String { streamFolder(stream) + "/\(padded(offset, 12)).chunk" }

    /// The absolute path of a relative one.
    public func absolute(_ relative: String) -> String { root + "/" + relative }

    static func padded(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
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

    /// The format this code writes.
    public static let currentFormat = 1

    /// Creates a descriptor of the current format.
    public init(created: Double, source: String, runId: String? = nil, aofDirectory: String? = nil, serverVersion: String? = nil) {
        self.format = Self.currentFormat
        self.created = created
        self.source = source
        self.runId = runId
        self.aofDirectory = aofDirectory
        self.serverVersion = serverVersion
    }
}
