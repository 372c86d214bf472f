import RedisClient

/// What to start: port, role, persistence, folder and any extra configuration.
public struct LocalServerOptions: Sendable {
    /// The TCP port on 127.0.0.1; nil picks a free one.
    public var port: Int?
    /// Make it a replica of another Lab server (by name) or of `host:port`.
    public var replicaOf: String?
    /// `appendonly yes`.
    public var appendOnly: Bool
    /// `aof-timestamp-enabled yes` (implies ``appendOnly``).
    public var aofTimestamps: Bool
    /// The server's folder; nil makes one inside the Lab's own temporary folder.
    public var directory: String?
    /// Extra `name value` configuration lines, written after redkeep's own (so they win).
    public var config: [(name: String, value: String)]
    /// How long to wait for the server to answer PING.
    public var startTimeout: Duration
    /// How long a replica may take to report `master_link_status:up`.
    public var linkTimeout: Duration
    /// Run redis-sentinel (the server binary with `--sentinel`) monitoring this master,
    /// instead of a data server.
    public var sentinel: SentinelOptions?
    /// Listen with TLS only (`port 0`, `tls-port`), with certificates the Lab makes.
    /// A replica or Sentinel of a TLS Lab server gets TLS whatever this says.
    public var tls: Bool = false
    /// Whether the TLS server demands client certificates.
    public var clientCertificates: LocalServerClientCertificates = .required
    /// `requirepass`, or the password of ``user``: written into the 0600 redis.conf, never
    /// on a command line. A replica of a Lab server with a password inherits it.
    public var password: RedisSecret?
    /// An ACL user (all commands and keys) with ``password``; the default user is then off.
    public var user: String?

    /// Creates options; the defaults start a stand-alone server without AOF on a free port.
    public init(port: Int? = nil, replicaOf: String? = nil, appendOnly: Bool = false, aofTimestamps: Bool = false,
                directory: String? = nil, config: [(name: String, value: String)] = [],
                startTimeout: Duration = .seconds(10), linkTimeout: Duration = .seconds(10),
                tls: Bool = false, clientCertificates: LocalServerClientCertificates = .required,
                password: RedisSecret? = nil, user: String? = nil) {
        self.port = port
        self.replicaOf = replicaOf
        self.appendOnly = appendOnly || aofTimestamps
        self.aofTimestamps = aofTimestamps
        self.directory = directory
        self.config = config
        self.startTimeout = startTimeout
        self.linkTimeout = linkTimeout
        self.tls = tls
        self.clientCertificates = clientCertificates
        self.password = password
        self.user = user
    }
}

/// What a rehearsal Sentinel watches, with short timings so a failover takes seconds.
public struct SentinelOptions: Sendable {
    /// The master to monitor: a Lab server's name, or `host:port`.
    public var monitor: String
    /// The name Sentinel knows it by (`sentinel monitor NAME ...`).
    public var masterName: String
    /// How many Sentinels must agree the master is down.
    public var quorum: Int
    /// `down-after-milliseconds`: how long without an answer before the master counts as down.
    public var downAfterMilliseconds: Int
    /// `failover-timeout`, in milliseconds.
    public var failoverTimeoutMilliseconds: Int

    /// Creates options for a rehearsal: quorum 1, down after 1 s, failover timeout 5 s.
    public init(monitor: String, masterName: String? = nil, quorum: Int = 1, downAfterMilliseconds: Int = 1000,
                failoverTimeoutMilliseconds: Int = 5000) {
        self.monitor = monitor
        self.masterName = masterName ?? monitor.replacingOccurrences(of: ":", with: "-")
        self.quorum = quorum
        self.downAfterMilliseconds = downAfterMilliseconds
        self.failoverTimeoutMilliseconds = failoverTimeoutMilliseconds
    }
}

/// A server the Lab started, as it is now.
public struct LocalServer: Sendable, Hashable, CustomStringConvertible {
    /// The name it was started under (`master`, `r1`).
    public let name: String
    /// Its TCP port on 127.0.0.1.
    public let port: Int
    /// Its folder: configuration, data, AOF folder, log and socket.
    public let directory: String
    /// Its unix socket.
    public let unixSocket: String
    /// Its log file (what the server printed, stdout and stderr).
    public let logPath: String
    /// Its configuration file.
    public let configPath: String
    /// The process id while it runs.
    public let pid: Int32
    /// The master it replicates, as `host:port`, if any.
    public let replicaOf: String?
    /// For a Sentinel: the master it monitors, as `host:port`.
    public var sentinelOf: String? = nil
    /// Its TLS files when it listens with TLS only (``port`` is then its `tls-port`).
    public var tls: LocalServerTLS? = nil
    /// The ACL user clients log in as, if any.
    public var user: String? = nil
    /// The password clients log in with, if any.
    public var password: RedisSecret? = nil

    /// Its TCP endpoint, 127.0.0.1:port.
    public var endpoint: RedisEndpoint { .tcp(host: "127.0.0.1", port: port) }

    /// A configuration to connect to it over TCP, with its TLS settings and credentials.
    public var connectionConfiguration: RedisConnectionConfiguration {
        var configuration = RedisConnectionConfiguration(endpoint: endpoint, username: user, password: password)
        configuration.tls = tls?.clientConfiguration
        return configuration
    }

    /// `master 127.0.0.1:7000 (pid 1234)`, with `TLS` for a TLS server.
    public var description: String { "\(name) \(endpoint)\(tls == nil ? "" : " TLS") (pid \(pid))" }
}
