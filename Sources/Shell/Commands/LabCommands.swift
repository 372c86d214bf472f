import ArgumentParser
import Foundation
import Operations
import RedisClient
import RESP

struct Start: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start a local redis-server in a folder of its own and connect to it.",
        discussion: """
        The binary is $REDKEEP_SERVER, else redis-server on PATH, else valkey-server. The connection
        gets the server's name. Servers a run started are stopped when it ends, unless redkeep --keep.
        The report: name, address, pid, role, dir, server; a --tls server adds ca, client_cert and
        client_key (the Lab's throwaway CA and a client certificate, for redis-cli or a Sentinel
        given by address). A server started with --password-env also gets masterauth (and
        masteruser) for its own credentials, so a failover that demotes it can link it to a
        replica sharing them.
        start NAME --s3 starts a local S3-compatible object store (SeaweedFS) instead, with a bucket
        "redkeep", and prints its s3:// URL, endpoint and access key; this session's AWS_* variables
        are set to it, so --archive s3://redkeep/PREFIX works at once. The secret is never printed:
        it stays in the store's identities file (0600), shown as secret_file.
        """)
    @Argument(help: "The server's (and connection's) name.") var name: String
    @Option(help: "The port on 127.0.0.1, 1 to 65535 (default: a free one).") var port: Int?
    @Option(name: .customLong("replica-of"), help: "Replicate another local server (by name) or host:port.") var replicaOf: String?
    @Flag(help: "appendonly yes.") var aof = false
    @Flag(name: .customLong("aof-timestamps"), help: "appendonly yes with #TS annotations (aof-timestamp-enabled yes).") var aofTimestamps = false
    @Option(help: "The server's folder (default: a temporary one, removed at the end).") var dir: String?
    @Option(parsing: .upToNextOption, help: "Extra configuration: --config KEY VALUE (repeatable).") var config: [String] = []
    @Option(help: "Start a Sentinel (for rehearsals) monitoring this local server or host:port, instead of a data server.") var sentinel: String?
    @Option(name: .customLong("master-name"), help: "With --sentinel: the name Sentinel knows the master by (default: the server's name).") var masterName: String?
    @Flag(name: .customLong("s3"), help: "Start a local S3-compatible object store (SeaweedFS) for archives instead of a data server.") var s3 = false
    @Flag(help: "Listen with TLS only, with a throwaway CA and certificates the Lab makes; connections use them.") var tls = false
    @Option(name: .customLong("password-env"), help: "Require the password in this environment variable (requirepass, or --user's).") var passwordEnv: String?
    @Option(help: "An ACL user (all commands) with the --password-env password; the default user is turned off.") var user: String?

    func validate() throws {
        if let port { try Bounds.check(port, Bounds.port, "--port") }
        guard config.count % 2 == 0 else { throw ValidationError("--config takes pairs: --config KEY VALUE") }
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        if s3 {
            guard port == nil, replicaOf == nil, !aof, !aofTimestamps, dir == nil, config.isEmpty, sentinel == nil, !tls, passwordEnv == nil, user == nil else {
                throw ShellError(.usage, "start --s3 takes only a name: an object store holds archives, not data", at: invocation.location)
            }
            return try await interpreter.startObjectStore(name, at: invocation.location)
        }
        let pairs = stride(from: 0, to: config.count, by: 2).map { (name: config[$0], value: config[$0 + 1]) }
        var options = LocalServerOptions(port: port, replicaOf: replicaOf, appendOnly: aof, aofTimestamps: aofTimestamps,
                                         directory: dir, config: pairs)
        options.tls = tls
        if let passwordEnv {
            guard let secret = RedisSecret.fromEnvironment(passwordEnv, environment: await interpreter.configuration.environment) else {
                throw ShellError(.usage, "--password-env \(passwordEnv): that environment variable is not set", at: invocation.location)
            }
            options.password = secret
        } else if user != nil {
            throw ShellError(.usage, "--user needs --password-env VAR: an ACL user without a password would let anyone in", at: invocation.location)
        }
        options.user = user
        if let sentinel {
            guard replicaOf == nil, !aof, !aofTimestamps, config.isEmpty else {
                throw ShellError(.usage, "start --sentinel takes no --replica-of, --aof or --config: a Sentinel holds no data", at: invocation.location)
            }
            options.sentinel = SentinelOptions(monitor: sentinel, masterName: masterName)
        } else if masterName != nil {
            throw ShellError(.usage, "--master-name goes with --sentinel", at: invocation.location)
        }
        return try await interpreter.startServer(name, options, at: invocation.location)
    }
}

struct Stop: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop a local server cleanly (it saves what its configuration asks for).",
        discussion: """
        Also stops a server or object store an earlier redkeep --keep run left running,
        found by its folder in that run's temporary Lab folder and its pid file; its folder
        is kept (the report says where). An object store (start NAME --s3) is stopped with
        SIGTERM and waited for (SeaweedFS takes a few seconds); its folder stays until the
        run ends, so restart NAME brings it back with its objects.
        """)
    @Argument(help: "The server's name.") var name: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.labAction(name, .stop, at: invocation.location)
    }
}

struct Crash: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "crash", abstract: "Kill a local server with SIGKILL, to rehearse a crash.")
    @Argument(help: "The server's name.") var name: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.labAction(name, .crash, at: invocation.location)
    }
}

struct Restart: ShellCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Start a local server again on its port and folder, and reconnect.")
    @Argument(help: "The server's name.") var name: String

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        try await interpreter.labAction(name, .restart, at: invocation.location)
    }
}

extension Interpreter {
    enum LabAction { case stop, crash, restart }

    func labInstance(at location: SourceLocation) throws -> Lab {
        if let lab { return lab }
        do {
            let binary = try ServerBinary.locate(environment: configuration.environment)
            let made = try Lab(binary: binary)
            lab = made
            return made
        } catch {
            // Both throw LabError only (typed throws).
            throw ShellError.from(error, doing: "", at: location)
        }
    }

    func startServer(_ name: String, _ options: LocalServerOptions, at location: SourceLocation) async throws -> RESPValue {
        let lab = try labInstance(at: location)
        let server: LocalServer
        do {
            server = try await lab.start(name, options)
        } catch {
            throw ShellError.from(error, doing: "", at: location)
        }
        let keepCurrent = connections.current
        try await openConnection(name, server.connectionConfiguration, localServer: name, at: location)
        // The first server becomes current; later ones (replicas) do not steal the prompt.
        if let keepCurrent { connections.current = keepCurrent }
        return serverReport(server, lab: lab)
    }

    /// Starts a Lab object store and points this session's AWS_* variables at it: its
    /// throwaway keys serve only a loopback store, and the secret is never shown.
    func startObjectStore(_ name: String, at location: SourceLocation) async throws -> RESPValue {
        let lab = try labInstance(at: location)
        let store: LocalObjectStore
        do { store = try await lab.startObjectStore(name) } catch { throw ShellError.from(error, doing: "", at: location) }
        setenv("AWS_ACCESS_KEY_ID", store.credentials.accessKeyID, 1)
        setenv("AWS_SECRET_ACCESS_KEY", store.credentials.secretAccessKey.revealed, 1)
        unsetenv("AWS_SESSION_TOKEN")
        setenv("AWS_ENDPOINT_URL_S3", store.endpoint.description, 1)
        return .report([
            ("name", .text(name)),
            ("url", .text(store.url ?? "")),
            ("endpoint", .text(store.endpoint.description)),
            ("access_key", .text(store.credentials.accessKeyID)),
            ("secret_file", .text(store.directory + "/identities.json")),
            ("session", .text("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL_S3 now name this store")),
            ("pid", .integer(Int64(store.pid))),
        ])
    }

    func labAction(_ name: String, _ action: LabAction, at location: SourceLocation) async throws -> RESPValue? {
        if let lab, await lab.objectStore(name) != nil { return try await objectStoreAction(name, action, lab: lab, at: location) }
        if action == .stop, await lab?.server(name) == nil, let kept = KeptServer.find(name) {
            await connections[name]?.connection?.close()
            do { try await kept.stop() } catch { throw ShellError.from(error, doing: "", at: location) }
            return .report([("stopped", .text(name)), ("kind", .text(kept.kind.rawValue)), ("pid", .integer(Int64(kept.pid))),
                            ("left_by", .text("an earlier --keep run")), ("dir", .text(kept.directory))])
        }
        let lab = try labInstance(at: location)
        do {
            switch action {
            case .stop:
                await connections[name]?.connection?.close()
                try await lab.stop(name)
                return nil
            case .crash:
                try await lab.crash(name)
                await connections[name]?.connection?.close()
                return nil
            case .restart:
                let server = try await lab.restart(name)
                let keepCurrent = connections.current
                try await openConnection(name, server.connectionConfiguration, localServer: name, at: location)
                connections.current = keepCurrent ?? name
                return serverReport(server, lab: lab)
            }
        } catch let error as LabError {
            throw ShellError.from(error, doing: "", at: location)
        }
    }

    private func serverReport(_ server: LocalServer, lab: Lab) -> RESPValue {
        var fields: [(String, RESPValue)] = [
            ("name", .text(server.name)),
            ("address", .text(server.endpoint.description)),
            ("pid", .integer(Int64(server.pid))),
            ("role", .text(server.replicaOf == nil ? "master" : "replica of \(server.replicaOf!)")),
            ("dir", .text(server.directory)),
            ("server", .text("\(lab.binary.product) \(lab.binary.version)")),
        ]
        if server.replicaOf == nil { fields.remove(at: 3); fields.insert(("role", .text("master")), at: 3) }
        if let monitored = server.sentinelOf { fields[3] = ("role", .text("sentinel of \(monitored)")) }
        if let tls = server.tls {
            // What redis-cli, or `connect`/`failover --sentinel` by address, needs to reach it.
            fields += [("ca", .text(tls.caFile)), ("client_cert", .text(tls.clientCertificateFile)),
                       ("client_key", .text(tls.clientKeyFile))]
        }
        return .report(fields)
    }
}
