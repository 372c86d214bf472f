import Foundation
import RESP
import RedisClient
#if canImport(Glibc)
import Glibc
#endif

/// Local redis-server (or valkey-server) processes for demos, rehearsals and tests.
///
/// Each server runs in a folder of its own with a generated `redis.conf`, listens on
/// 127.0.0.1 and on a unix socket in its folder, and logs to `redis.log` there. The Lab
/// stops every server it started when ``shutdown(keepFiles:)`` runs; ``withLab(_:)`` makes
/// sure it does, also when the body throws. A program that may be interrupted should also
/// call ``ProcessRegistry/stopAllNow(grace:)`` from its signal handling.
public actor Lab {
    /// The server binary every server runs.
    public nonisolated let binary: ServerBinary
    /// The folder holding the servers' folders (a fresh temporary folder by default).
    public nonisolated let root: String
    private let ownsRoot: Bool
    private var managed: [String: Managed] = [:]
    private var order: [String] = []
    /// The object stores started by ``startObjectStore(_:bucket:)``, by name.
    var objectStores: [String: LocalObjectStore] = [:]

    private struct Managed {
        var server: LocalServer
        var options: LocalServerOptions
        var process: ChildProcess?
        let ownsDirectory: Bool
    }

    /// Creates a Lab. `binary` defaults to ``ServerBinary/locate(environment:)``;
    /// `root` defaults to a new temporary folder, removed again by ``shutdown(keepFiles:)``.
    public init(binary: ServerBinary? = nil, root: String? = nil) throws(LabError) {
        if let binary { self.binary = binary } else { self.binary = try ServerBinary.locate() }
        if let root {
            do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
            catch { throw LabError(.files, "cannot create the Lab folder \(root): \(error.localizedDescription)", underlying: error) }
            self.root = root
            self.ownsRoot = false
        } else {
            var template = Array((NSTemporaryDirectory() + "redkeep-lab-XXXXXX").utf8CString)
            guard let made = mkdtemp(&template) else {
                throw LabError(.files, "cannot create a temporary folder for the Lab in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
            }
            self.root = String(cString: made)
            self.ownsRoot = true
            LabFolders.shared.add(self.root)
        }
    }

    /// The servers started so far, in the order they were started.
    public var servers: [LocalServer] { order.compactMap { managed[$0]?.server } }

    /// The server called `name`, if any.
    public func server(_ name: String) -> LocalServer? { managed[name]?.server }

    /// True while the server's process runs.
    public func isRunning(_ name: String) -> Bool { managed[name]?.process?.isRunning ?? false }

    /// Starts a server and waits until it answers PING (and, for a replica, until its link
    /// to the master is up). Throws with the last lines of the server's log when it exits
    /// at once, and when the port is taken or the wait times out.
    @discardableResult
    public func start(_ name: String, _ options: LocalServerOptions = LocalServerOptions()) async throws(LabError) -> LocalServer {
        if let existing = managed[name], existing.process?.isRunning == true {
            throw LabError(.alreadyExists, "a server called \(name) is already running on port \(existing.server.port)", server: name)
        }
        if let store = objectStores[name] {
            throw LabError(.alreadyExists, "\(name) is already the name of an object store (\(store.endpoint))", server: name)
        }
        guard Self.isValidName(name) else {
            throw LabError(.invalidName, "invalid server name \"\(name)\": use letters, digits, '-' and '_'", server: name)
        }
        let master = try resolveMaster(options.replicaOf, for: name)
        let monitored = try resolveMaster(options.sentinel?.monitor, for: name)
        let directory = options.directory ?? "\(root)/\(name)"
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        catch { throw LabError(.files, "cannot create the folder \(directory) for \(name): \(error.localizedDescription)", server: name, underlying: error) }
        // A replica or Sentinel of a Lab server speaks as it does: TLS and its credentials.
        let upstream = (options.replicaOf ?? options.sentinel?.monitor).flatMap { managed[$0]?.server }
        var tls: LocalServerTLS?
        if options.tls || upstream?.tls != nil { tls = try await makeTLSFiles(for: name, in: directory) }
        let password = options.password ?? (options.sentinel == nil ? upstream?.password : nil)
        let user = options.password != nil ? options.user : (options.sentinel == nil ? upstream?.user : nil)

        // An automatic port can be taken between choosing it and the server binding it;
        // try a few before giving up. A port the user chose is checked once, up front.
        var attempt = 0
        while true {
            attempt += 1
            let port: Int
            if let chosen = options.port {
                if let problem = Self.portProblem(chosen) {
                    throw LabError(.portUnavailable, "cannot start \(name) on 127.0.0.1:\(chosen): \(problem)", server: name)
                }
                port = chosen
            } else {
                port = try Self.freePort()
            }
            let server = LocalServer(name: name, port: port, directory: directory,
                                     unixSocket: Self.socketPath(directory: directory, name: name),
                                     logPath: "\(directory)/redis.log", configPath: "\(directory)/redis.conf",
                                     pid: 0, replicaOf: master, sentinelOf: monitored, tls: tls, user: user, password: password)
            do {
                return try await launch(server, options, ownsDirectory: options.directory == nil)
            } catch let error as PortTaken where options.port == nil && attempt < 5 {
                _ = error
                continue
            } catch let error as PortTaken {
                throw LabError(.portUnavailable, "cannot start \(name) on 127.0.0.1:\(port): the port is in use", server: name)
                    .adding(log: error.log)
            } catch let error as LabError {
                throw error
            } catch {
                throw LabError(.startFailed, "cannot start \(name): \(error)", server: name, underlying: error)
            }
        }
    }

    private struct PortTaken: Error { let log: String }

    private func launch(_ draft: LocalServer, _ options: LocalServerOptions, ownsDirectory: Bool) async throws -> LocalServer {
        if let sentinel = options.sentinel, let monitored = draft.sentinelOf {
            // A restarted Sentinel keeps the configuration it rewrote (it may name a new master).
            if !FileManager.default.fileExists(atPath: draft.configPath) {
                let upstream = managed[sentinel.monitor]?.server
                try writeSentinelConfig(for: draft, sentinel, monitoring: monitored, upstream: upstream)
            }
        } else {
            try writeConfig(for: draft, options, master: options.replicaOf.flatMap { managed[$0]?.server })
        }
        let arguments = draft.sentinelOf == nil ? [draft.configPath] : [draft.configPath, "--sentinel"]
        let process = try ChildProcess.spawn(binary.path, arguments, logPath: draft.logPath)
        let server = LocalServer(name: draft.name, port: draft.port, directory: draft.directory,
                                 unixSocket: draft.unixSocket, logPath: draft.logPath,
                                 configPath: draft.configPath, pid: process.pid, replicaOf: draft.replicaOf,
                                 sentinelOf: draft.sentinelOf, tls: draft.tls, user: draft.user, password: draft.password)
        if managed[server.name] == nil { order.append(server.name) }
        managed[server.name] = Managed(server: server, options: options, process: process, ownsDirectory: ownsDirectory)
        do {
            try await waitUntilReady(server, process, timeout: options.startTimeout)
            if let master = server.replicaOf {
                try await waitForLink(server, master: master, process, timeout: options.linkTimeout)
            }
        } catch {
            _ = await process.terminate(grace: .seconds(2))
            throw error
        }
        return server
    }

    /// Stops a server cleanly (SIGTERM, which Redis handles as SHUTDOWN: it saves and
    /// flushes what its configuration asks for), killing it if it takes over 15 s.
    public func stop(_ name: String) async throws(LabError) {
        let entry = try lookup(name)
        guard let process = entry.process, process.isRunning else { return }
        _ = await process.terminate(grace: .seconds(15))
    }

    /// Kills a server with SIGKILL, as a crash would: no save, no AOF fsync.
    public func crash(_ name: String) async throws(LabError) {
        let entry = try lookup(name)
        guard let process = entry.process, process.isRunning else {
            throw LabError(.notRunning, "cannot crash \(name): it is not running", server: name)
        }
        process.send(SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(10))
    }

    /// Starts a server again on the same port and folder (stopping it cleanly first if it
    /// still runs), so it loads whatever it had persisted.
    @discardableResult
    public func restart(_ name: String) async throws(LabError) -> LocalServer {
        let entry = try lookup(name)
        if let process = entry.process, process.isRunning { _ = await process.terminate(grace: .seconds(15)) }
        var options = entry.options
        options.port = entry.server.port
        options.directory = entry.server.directory
        do {
            return try await launch(entry.server, options, ownsDirectory: entry.ownsDirectory)
        } catch let error as LabError {
            throw error
        } catch let error as PortTaken {
            throw LabError(.portUnavailable, "cannot restart \(name) on 127.0.0.1:\(entry.server.port): the port is in use", server: name).adding(log: error.log)
        } catch {
            throw LabError(.startFailed, "cannot restart \(name): \(error)", server: name, underlying: error)
        }
    }

    /// Opens a connection to a running server over TCP.
    public func connect(_ name: String) async throws -> RedisConnection {
        let entry = try lookup(name)
        return try await RedisConnection.connect(entry.server.connectionConfiguration)
    }

    /// Stops every server (SIGTERM, then SIGKILL after `grace`) and removes the folders the
    /// Lab created unless `keepFiles`.
    public func shutdown(keepFiles: Bool = false, grace: Duration = .seconds(10)) async {
        await stopObjectStores(grace: grace, keepFiles: keepFiles)
        for name in order.reversed() {
            if let process = managed[name]?.process, process.isRunning {
                _ = await process.terminate(grace: grace)
            }
        }
        guard !keepFiles else { return }
        if ownsRoot {
            try? FileManager.default.removeItem(atPath: root)
            LabFolders.shared.remove(root)
        } else {
            for entry in managed.values where entry.ownsDirectory {
                try? FileManager.default.removeItem(atPath: entry.server.directory)
            }
        }
    }

    // MARK: - Internals

    private func lookup(_ name: String) throws(LabError) -> Managed {
        guard let entry = managed[name] else {
            let known = order.isEmpty ? "none started" : "known: " + order.joined(separator: ", ")
            throw LabError(.notFound, "no local server called \(name) (\(known))", server: name)
        }
        return entry
    }

    private func resolveMaster(_ replicaOf: String?, for name: String) throws(LabError) -> String? {
        guard let replicaOf else { return nil }
        if let master = managed[replicaOf] {
            guard master.process?.isRunning == true else {
                throw LabError(.notRunning, "cannot start \(name) as a replica of \(replicaOf): \(replicaOf) is not running", server: replicaOf)
            }
            return "127.0.0.1:\(master.server.port)"
        }
        if case .tcp(let host, let port)? = try? RedisEndpoint(parsing: replicaOf), replicaOf.contains(":") {
            return "\(host):\(port)"
        }
        let known = order.isEmpty ? "none started" : "known: " + order.joined(separator: ", ")
        throw LabError(.notFound, "cannot start \(name) as a replica of \(replicaOf): no local server has that name (\(known)), and it is not host:port", server: replicaOf)
    }

    private func writeConfig(for server: LocalServer, _ options: LocalServerOptions, master: LocalServer?) throws(LabError) {
        var lines = [
            "# Written by redkeep's Lab for the server \(server.name).",
            "bind 127.0.0.1",
            "daemonize no",
            "dir \(Self.quoted(server.directory))",
            "logfile \"\"",
            // Found again by a later run's `stop NAME` when this one keeps it (KeptServer).
            "pidfile \(Self.quoted(server.directory + "/redis.pid"))",
            "unixsocket \(Self.quoted(server.unixSocket))",
            "unixsocketperm 700",
            "appendonly \(options.appendOnly ? "yes" : "no")",
            // Redis 7 waits 5 s for more replicas before a diskless full sync; a rehearsal
            // replica should link at once.
            "repl-diskless-sync-delay 0",
        ]
        lines += Self.listenLines(server, clientCertificates: options.clientCertificates)
        lines += Self.credentialLines(server, master: master)
        if options.aofTimestamps { lines.append("aof-timestamp-enabled yes") }
        if let master = server.replicaOf {
            let parts = master.split(separator: ":")
            lines.append("replicaof \(parts.dropLast().joined(separator: ":")) \(parts.last!)")
        }
        for (name, value) in options.config { lines.append("\(name) \(Self.quoted(value))") }
        try Self.writePrivately(lines.joined(separator: "\n") + "\n", to: server.configPath)
    }

    /// A Sentinel's configuration: it rewrites this file itself (it must stay writable).
    private func writeSentinelConfig(for server: LocalServer, _ sentinel: SentinelOptions, monitoring master: String,
                                     upstream: LocalServer?) throws(LabError) {
        let parts = master.split(separator: ":")
        let name = sentinel.masterName
        var lines = [
            "# Written by redkeep's Lab for the Sentinel \(server.name).",
            "bind 127.0.0.1",
            "daemonize no",
            "dir \(Self.quoted(server.directory))",
            "logfile \"\"",
            "sentinel monitor \(name) \(parts.dropLast().joined(separator: ":")) \(parts.last!) \(sentinel.quorum)",
            "sentinel down-after-milliseconds \(name) \(sentinel.downAfterMilliseconds)",
            "sentinel failover-timeout \(name) \(sentinel.failoverTimeoutMilliseconds)",
            "sentinel parallel-syncs \(name) 1",
        ]
        lines += Self.listenLines(server, clientCertificates: .required)
        if let password = upstream?.password {
            if let user = upstream?.user { lines.append("sentinel auth-user \(name) \(Self.quoted(user))") }
            lines.append("sentinel auth-pass \(name) \(Self.quoted(password.revealed))")
        }
        try Self.writePrivately(lines.joined(separator: "\n") + "\n", to: server.configPath)
    }

    private func waitUntilReady(_ server: LocalServer, _ process: ChildProcess, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var lastProblem = "no answer yet"
        while clock.now < deadline {
            if let status = process.exitStatus {
                let log = Self.tail(server.logPath)
                if log.contains("Address already in use") { throw PortTaken(log: log) }
                throw LabError(.startFailed, "\(binary.product.lowercased())-server for \(server.name) exited at once (\(status)) on 127.0.0.1:\(server.port)", server: server.name)
                    .adding(log: log)
            }
            var configuration = server.connectionConfiguration
            configuration.connectTimeout = .milliseconds(500)
            configuration.commandTimeout = .seconds(2)
            if let connection = try? await RedisConnection.connect(configuration) {
                let reply = try? await connection.reply(to: RESPCommand("PING"))
                await connection.close()
                if let reply, !reply.isError { return }
                lastProblem = reply?.errorMessage ?? "PING failed"
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        throw LabError(.timeout, "\(server.name) on 127.0.0.1:\(server.port) did not answer PING within \(timeout) (\(lastProblem))", server: server.name)
            .adding(log: Self.tail(server.logPath))
    }

    private func waitForLink(_ server: LocalServer, master: String, _ process: ChildProcess, timeout: Duration) async throws {
        let connection = try await RedisConnection.connect(server.connectionConfiguration)
        defer { Task { await connection.close() } }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status = "unknown"
        while clock.now < deadline {
            guard process.isRunning else { break }
            let info = try await connection.info("replication")
            status = info.string("master_link_status") ?? "unknown"
            if status == "up" { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw LabError(.timeout, "replica \(server.name) (127.0.0.1:\(server.port)) did not link to its master \(master) within \(timeout): master_link_status is \(status)", server: server.name)
            .adding(log: Self.tail(server.logPath))
    }

    /// A port on 127.0.0.1 that nothing listens on right now.
    static func freePort() throws(LabError) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LabError(.portUnavailable, "cannot find a free port: socket() failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard ok else { throw LabError(.portUnavailable, "cannot find a free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Why `port` cannot be used on 127.0.0.1, or nil when it can.
    static func portProblem(_ port: Int) -> String? {
        guard (1...65535).contains(port) else { return "ports go from 1 to 65535" }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return nil }
        return errno == EADDRINUSE ? "the port is in use" : String(cString: strerror(errno))
    }

    /// Letters, digits, '-' and '_': a name that is also a folder name.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// Unix socket paths are limited to 107 bytes; fall back to /tmp when the folder is deep.
    static func socketPath(directory: String, name: String) -> String {
        let inside = "\(directory)/redis.sock"
        if inside.utf8.count < 100 { return inside }
        return "\(NSTemporaryDirectory())redkeep-\(getpid())-\(name).sock"
    }

    /// A configuration value, double-quoted when it has spaces or is empty.
    static func quoted(_ value: String) -> String {
        if !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "\\" || $0 == "'" }) { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The last `count` lines of a log file.
    static func tail(_ path: String, count: Int = 8) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}

extension LabError {
    /// Appends the last lines of a server's log, indented, when there are any.
    func adding(log: String) -> LabError {
        guard !log.isEmpty else { return self }
        let indented = log.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        var withLog = self
        withLog.message += "\n  last lines of its log:\n" + indented
        return withLog
    }
}

/// Runs `body` with a fresh Lab and shuts the Lab down afterwards, whether `body` returns
/// or throws, so no server outlives it.
public func withLab<T: Sendable>(binary: ServerBinary? = nil, _ body: (Lab) async throws -> T) async throws -> T {
    let lab = try Lab(binary: binary)
    do {
        let result = try await body(lab)
        await lab.shutdown()
        return result
    } catch {
        await lab.shutdown()
        throw error
    }
}
