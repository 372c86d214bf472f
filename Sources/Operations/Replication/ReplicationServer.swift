import RedisClient

/// A server a replication command works on: the name the operator knows it by (a redkeep
/// connection name, or its address when it has none) and a way to reach it.
public struct ReplicationServer: Sendable {
    /// The connection name (`master`, `r1`), or `host:port` for a server found on the way.
    public var name: String
    /// How to connect to it (also the template, with its user and password, for servers
    /// found through it).
    public var configuration: RedisConnectionConfiguration
    /// An open connection, when the caller has one.
    public var connection: RedisConnection?
    /// The Lab server's name when redkeep started it here (files can then be copied).
    public var localServer: String?

    /// Creates a server description.
    public init(name: String, configuration: RedisConnectionConfiguration, connection: RedisConnection? = nil,
                localServer: String? = nil) {
        self.name = name
        self.configuration = configuration
        self.connection = connection
        self.localServer = localServer
    }

    /// Where it listens.
    public var endpoint: RedisEndpoint { configuration.endpoint }

    /// `r1 (127.0.0.1:7001)`, or just the address when that is its name.
    public var label: String {
        name == endpoint.description ? name : "\(name) (\(endpoint))"
    }

    /// The open connection, or a new one (short timeouts: a server that does not answer
    /// must not stall a failover).
    public func open(connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(10)) async throws(ReplicationError) -> RedisConnection {
        if let connection, connection.isOpen { return connection }
        var configuration = configuration
        configuration.connectTimeout = connectTimeout
        configuration.commandTimeout = commandTimeout
        do {
            return try await RedisConnection.connect(configuration)
        } catch {
            throw ReplicationError(.connection, "\(label) does not answer: \(error.message)", server: label, underlying: error)
        }
    }

    /// An open connection whose every reply is bounded by `limit`: the caller's when its
    /// command timeout is no longer, else a new one (a server that stops answering must not
    /// hold a check past its own timeout).
    public func open(boundedBy limit: Duration) async throws(ReplicationError) -> RedisConnection {
        if let connection, connection.isOpen, let bound = connection.configuration.commandTimeout, bound <= limit {
            return connection
        }
        var fresh = self
        fresh.connection = nil
        return try await fresh.open(connectTimeout: min(limit, .seconds(2)), commandTimeout: limit)
    }

    /// The same credentials pointed at another address (a server found through INFO).
    public func sibling(_ endpoint: RedisEndpoint, name: String? = nil) -> ReplicationServer {
        var configuration = configuration
        configuration.endpoint = endpoint
        return ReplicationServer(name: name ?? endpoint.description, configuration: configuration)
    }
}

/// Two addresses name the same server when their ports match and their hosts match, with
/// `localhost` and the loopback addresses counted as one host.
public func sameServer(_ a: RedisEndpoint, _ b: RedisEndpoint) -> Bool {
    switch (a, b) {
    case (.tcp(let h1, let p1), .tcp(let h2, let p2)):
        return p1 == p2 && (h1 == h2 || (isLoopback(h1) && isLoopback(h2)))
    case (.unix(let x), .unix(let y)):
        return x == y
    default:
        return false
    }
}

private func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
}
