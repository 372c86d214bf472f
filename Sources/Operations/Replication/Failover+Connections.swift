import RedisClient
import Synchronization

extension Failover {
    /// Connections a failover opened itself, closed when it ends: every step on a server
    /// reuses one connection instead of opening its own.
    final class Connections: Sendable {
        private let opened = Mutex<[RedisConnection]>([])

        /// `server` with an open connection when it answers (the caller's, or a new one).
        func attach(_ server: ReplicationServer) async -> ReplicationServer {
            guard server.connection?.isOpen != true else { return server }
            var server = server
            if let connection = try? await server.open(connectTimeout: .seconds(1)) {
                server.connection = connection
                opened.withLock { $0.append(connection) }
            }
            return server
        }

        func attach(_ servers: [ReplicationServer]) async -> [ReplicationServer] {
            var attached: [ReplicationServer] = []
            for server in servers { attached.append(await attach(server)) }
            return attached
        }

        func closeAll() async {
            for connection in opened.withLock({ $0 }) { await connection.close() }
        }
    }
}
