import AOF
import Foundation
import RedisClient

/// Where a server keeps its snapshot and AOF (CONFIG GET dir, dbfilename, appenddirname,
/// appendfilename), and whether those paths can be read from this machine.
public struct ServerFiles: Sendable, Hashable {
    /// The server's working folder (`dir`).
    public var directory: String
    /// The snapshot's name (`dbfilename`).
    public var dbFilename: String
    /// The AOF folder's name inside ``directory`` (`appenddirname`; Redis 7+).
    public var appendDirname: String?
    /// The AOF's base name (`appendfilename`).
    public var appendFilename: String
    /// True when the server listens on a unix socket or a loopback address, so its paths
    /// name files on this machine.
    public var isOnThisMachine: Bool

    /// The snapshot's path.
    public var dumpPath: String { directory + "/" + dbFilename }
    /// The AOF folder's path (nil before Redis 7).
    public var aofFolder: String? { appendDirname.map { directory + "/" + $0 } }
    /// The manifest's path (nil before Redis 7).
    public var manifestPath: String? { aofFolder.map { $0 + "/" + AOFManifest.fileName(appendFilename: appendFilename) } }

    /// Asks `connection`'s server.
    public static func read(_ connection: RedisConnection) async throws(PersistenceError) -> ServerFiles {
        let config: [String: String]
        do {
            var all: [String: String] = [:]
            for name in ["dir", "dbfilename", "appenddirname", "appendfilename"] {
                all.merge(try await connection.configGet(name)) { $1 }
            }
            config = all
        } catch {
            throw PersistenceError(.connection, "cannot read CONFIG GET dir/dbfilename from \(connection.endpoint): \(error.message)", underlying: error)
        }
        return ServerFiles(directory: config["dir"] ?? ".", dbFilename: config["dbfilename"] ?? "dump.rdb",
                           appendDirname: config["appenddirname"], appendFilename: config["appendfilename"] ?? "appendonly.aof",
                           isOnThisMachine: isLocal(connection.endpoint))
    }

    /// A unix socket, or a TCP loopback address.
    public static func isLocal(_ endpoint: RedisEndpoint) -> Bool {
        switch endpoint {
        case .unix: return true
        case .tcp(let host, _):
            return host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// The manifest and the size of each file it lists, when the AOF folder is readable here.
    public func manifestFiles() -> (manifest: AOFManifest, sizes: [String: Int])? {
        guard isOnThisMachine, let manifestPath, let folder = aofFolder,
              let manifest = try? AOFManifest.load(manifestPath) else { return nil }
        var sizes: [String: Int] = [:]
        for file in manifest.files {
            sizes[file.name] = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + file.name)[.size] as? Int) ?? nil
        }
        return (manifest, sizes)
    }
}

/// A file of an AOF manifest, with its size on disk when it could be read.
public struct ManifestFileInfo: Sendable, Hashable {
    /// The file name.
    public var name: String
    /// `b`, `h` or `i`.
    public var type: String
    /// Its sequence number.
    public var seq: Int64
    /// Its size, nil when it could not be read.
    public var size: Int?

    /// The files of `listing`, in manifest order.
    static func list(_ listing: (manifest: AOFManifest, sizes: [String: Int])?) -> [ManifestFileInfo]? {
        listing.map { l in l.manifest.files.map { ManifestFileInfo(name: $0.name, type: $0.type.rawValue, seq: $0.seq, size: l.sizes[$0.name]) } }
    }
}
