import RESP
import RedisClient

/// `aof status`: a server's AOF settings (CONFIG GET) and state (INFO persistence), with
/// the manifest's files and their sizes when the AOF folder is readable from here.
public struct AOFStatus: Sendable {
    /// The settings that decide what the AOF holds and when it is rewritten.
    public static let settingNames = [
        "appendonly", "appendfsync", "aof-timestamp-enabled", "auto-aof-rewrite-percentage",
        "auto-aof-rewrite-min-size", "aof-use-rdb-preamble", "aof-load-truncated", "no-appendfsync-on-rewrite",
        "appenddirname", "appendfilename",
    ]
    /// The INFO persistence fields shown.
    public static let stateNames = [
        "aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled", "aof_last_rewrite_time_sec",
        "aof_last_bgrewrite_status", "aof_rewrites", "aof_last_write_status", "aof_current_size", "aof_base_size",
        "aof_pending_bio_fsync", "aof_delayed_fsync", "aof_buffer_length",
    ]

    /// Settings as CONFIG GET gives them, in ``settingNames`` order; settings the server
    /// does not have (older versions) are left out.
    public var settings: [(name: String, value: String)]
    /// INFO fields in ``stateNames`` order, those the server reports.
    public var state: [(name: String, value: String)]
    /// The manifest's files, when readable here.
    public var files: [ManifestFileInfo]?
    /// Where the AOF folder is.
    public var folder: String?

    /// Reads the status of `connection`'s server.
    public static func read(_ connection: RedisConnection) async throws(PersistenceError) -> AOFStatus {
        var config: [String: String] = [:]
        do {
            for name in settingNames { config.merge(try await connection.configGet(name)) { $1 } }
        } catch {
            throw PersistenceError(.connection, "cannot read the AOF settings of \(connection.endpoint): \(error.message)", underlying: error)
        }
        let info = try await ServerPersistenceState.read(connection)
        let files = try await ServerFiles.read(connection)
        return AOFStatus(settings: settingNames.compactMap { n in config[n].map { (n, $0) } },
                         state: stateNames.compactMap { n in info.persistence.string(n).map { (n, $0) } },
                         files: ManifestFileInfo.list(files.manifestFiles()),
                         folder: files.aofFolder)
    }
}
