import Operations
import RedisClient

/// Lab servers as replication servers, named as the Lab names them.
extension Lab {
    func replicationServer(_ name: String) async throws -> ReplicationServer {
        guard let server = server(name) else { throw LabError("no server \(name)") }
        return ReplicationServer(name: name, configuration: server.connectionConfiguration, localServer: name)
    }
}
