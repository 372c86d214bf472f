import RESP
import RedisClient

/// What `INFO replication` says about one server, typed.
public struct ReplicationState: Sendable, Hashable {
    /// `master` or `slave` (Redis's word), or `sentinel`.
    public var role: String
    /// The replication ID of the history this server follows.
    public var replicationID: String
    /// A master's `master_repl_offset`; a replica's `slave_repl_offset` (what it processed).
    public var offset: Int?
    /// For a replica: its master's address.
    public var master: RedisEndpoint?
    /// For a replica: `up` or `down`.
    public var link: String?
    /// For a replica: a full sync from its master is running.
    public var syncInProgress: Bool
    /// For a replica whose link is down: for how long, in seconds.
    public var linkDownSeconds: Int?
    /// For a replica: seconds since it last heard from its master.
    public var lastIOSeconds: Int?
    /// The replicas this server feeds, as it lists them.
    public var replicas: [ReplicaEntry]

    /// True for a replica (Redis says `slave`).
    public var isReplica: Bool { role == "slave" }

    /// Reads the typed fields from an INFO reply.
    public init(_ info: RedisInfo) {
        role = info.string("role") ?? "unknown"
        replicationID = info.string("master_replid") ?? ""
        if role == "slave" {
            offset = info.int("slave_repl_offset")
            if let host = info.string("master_host"), let port = info.int("master_port") {
                master = .tcp(host: host, port: port)
            }
            link = info.string("master_link_status")
            syncInProgress = info.int("master_sync_in_progress") == 1
            linkDownSeconds = info.int("master_link_down_since_seconds")
            lastIOSeconds = info.int("master_last_io_seconds_ago")
        } else {
            offset = info.int("master_repl_offset")
            syncInProgress = false
        }
        replicas = info.replicas
    }

    /// A replica whose link is up and which has a usable offset.
    public var linkUp: Bool { link == "up" }

    /// The role as an operator says it: `master`, `replica`.
    public var roleName: String { role == "slave" ? "replica" : role }
}

extension RedisConnection {
    /// `INFO replication`, typed.
    public func replicationState() async throws(RedisClientError) -> ReplicationState {
        ReplicationState(try await info("replication"))
    }

    /// `REPLICAOF host port`, or `REPLICAOF NO ONE` when `master` is nil.
    public func replicaOf(_ master: RedisEndpoint?) async throws(RedisClientError) {
        guard let master else {
            _ = try await send(RESPCommand("REPLICAOF", "NO", "ONE"))
            return
        }
        guard case .tcp(let host, let port) = master else {
            throw RedisClientError(.invalidAddress, "a replica needs a TCP address for its master, not \(master)")
        }
        _ = try await send(RESPCommand("REPLICAOF", host, String(port)))
    }

    /// True when the server knows `name` (COMMAND INFO answers nil for unknown commands).
    public func hasCommand(_ name: String) async -> Bool {
        guard let reply = try? await reply(to: RESPCommand("COMMAND", "INFO", name)), !reply.isError,
              let first = reply.elements?.first else { return false }
        if case .null = first { return false }
        return true
    }
}
