import Foundation
import S3
#if canImport(Glibc)
import Glibc
#endif

/// A local S3-compatible object store for rehearsals and tests: SeaweedFS (`weed mini`)
/// in a folder of its own, listening on 127.0.0.1 only, on free ports (every port it opens,
/// so stores started side by side never meet), with SigV4 enforced by an identities file
/// holding a random access key and secret.
///
/// ``start(binary:directory:bucket:startTimeout:)`` returns once the S3 port answers signed
/// requests (and the bucket, if one was asked for, exists). ``stop(grace:)`` ends the
/// process and only then removes the folder: SeaweedFS hangs if its folder disappears
/// under it.
public final class LocalObjectStore: Sendable, CustomStringConvertible {
    /// Every port a store listens on.
    public struct Ports: Sendable, Hashable {
        /// The S3 API (HTTP).
        public let s3: Int
        /// The S3 gateway's gRPC port.
        public let s3GRPC: Int
        /// The master's HTTP and gRPC ports.
        public let master: Int, masterGRPC: Int
        /// The volume server's HTTP and gRPC ports.
        public let volume: Int, volumeGRPC: Int
        /// The filer's HTTP and gRPC ports.
        public let filer: Int, filerGRPC: Int
        /// The admin server's HTTP port, and its gRPC port (which SeaweedFS's worker looks
        /// for at the HTTP port + 10000, so it is chosen there).
        public let admin: Int, adminGRPC: Int
        /// Prometheus metrics.
        public let metrics: Int

        /// All of them.
        public var all: [Int] { [s3, s3GRPC, master, masterGRPC, volume, volumeGRPC, filer, filerGRPC, admin, adminGRPC, metrics] }
    }

    /// The store's folder: data, identities file and log.
    public let directory: String
    /// Its ports.
    public let ports: Ports
    /// The keys that sign requests to it (random for each store).
    public let credentials: S3Credentials
    /// The bucket created at start, if any.
    public let bucket: String?
    /// What `weed` printed.
    public let logPath: String
    private let process: ChildProcess
    private let ownsDirectory: Bool

    private init(directory: String, ports: Ports, credentials: S3Credentials, bucket: String?, logPath: String,
                 process: ChildProcess, ownsDirectory: Bool) {
        self.directory = directory
        self.ports = ports
        self.credentials = credentials
        self.bucket = bucket
        self.logPath = logPath
        self.process = process
        self.ownsDirectory = ownsDirectory
    }

    /// The process id.
    public var pid: Int32 { process.pid }
    /// True while the process runs.
    public var isRunning: Bool { process.isRunning }
    /// `http://127.0.0.1:PORT`.
    public var endpoint: S3Endpoint {
        // Well formed by construction.
        (try? S3Endpoint(parsing: "http://127.0.0.1:\(ports.s3)"))!
    }
    /// A configuration for clients of this store: its endpoint, its keys, path-style.
    public var configuration: S3Configuration {
        S3Configuration(endpoint: endpoint, region: "us-east-1", credentials: credentials, addressing: .path)
    }
    /// `s3://BUCKET/` for the bucket created at start.
    public var url: String? { bucket.map { "s3://\($0)/" } }
    /// `SeaweedFS at http://127.0.0.1:PORT (pid N)`.
    public var description: String { "SeaweedFS at \(endpoint) (pid \(pid))" }

    /// Starts a store and waits until its S3 port answers signed requests; creates
    /// `bucket` when one is given. `directory` defaults to a new temporary folder, which
    /// ``stop(grace:)`` removes. Throws with the last lines of the log when `weed` exits
    /// or does not answer within `startTimeout`.
    public static func start(binary: WeedBinary? = nil, directory: String? = nil, bucket: String? = "redkeep",
                             startTimeout: Duration = .seconds(30)) async throws(LabError) -> LocalObjectStore {
        let binary = if let binary { binary } else { try WeedBinary.locate() }
        if let bucket, let problem = S3Location.bucketNameProblem(bucket) { throw LabError(.invalidName, "cannot start an object store: \(problem)") }
        let folder = if let directory { directory } else { try makeTemporaryFolder() }
        do { try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true) }
        catch { throw LabError(.files, "cannot create the object store's folder \(folder)/data: \(error.localizedDescription)") }
        let credentials = S3Credentials(accessKeyID: "RK" + randomText(18, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                                        secretAccessKey: S3Secret(randomText(40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
                                        source: "the local store in \(folder)")
        try writeIdentities(credentials, to: folder + "/identities.json")
        // A chosen port can be taken before weed binds it; try a few sets.
        var attempt = 0
        while true {
            attempt += 1
            let ports = try freePorts()
            removeGRPCSockets(ports)
            let logPath = folder + "/weed.log"
            let process = try ChildProcess.spawn(binary.path, arguments(folder: folder, ports: ports), logPath: logPath)
            writePidFile(process.pid, in: folder)
            let store = LocalObjectStore(directory: folder, ports: ports, credentials: credentials, bucket: bucket,
                                         logPath: logPath, process: process, ownsDirectory: directory == nil)
            do {
                try await store.waitUntilReady(timeout: startTimeout)
                return store
            } catch {
                let portTaken = error is PortTaken
                await store.stop(grace: .seconds(10), removingFolder: directory == nil && !(portTaken && attempt < 4))
                if portTaken && attempt < 4 { continue }
                if portTaken {
                    throw LabError(.portUnavailable, "cannot start an object store in \(folder): its ports were taken \(attempt) times in a row")
                }
                throw (error as? LabError) ?? LabError(.startFailed, "cannot start an object store in \(folder): \(error)")
            }
        }
    }

    /// Stops the store (SIGTERM; SIGKILL after `grace`), waits for the process to end,
    /// then removes the folder if the store created it.
    public func stop(grace: Duration = .seconds(10)) async {
        await stop(grace: grace, removingFolder: ownsDirectory)
    }

    /// Starts a stopped store again on the same folder, ports and keys (its objects are
    /// still there): to rehearse an object store outage. Returns the running store.
    public func restarted(startTimeout: Duration = .seconds(30)) async throws(LabError) -> LocalObjectStore {
        guard !process.isRunning else { throw LabError(.alreadyExists, "the object store at \(endpoint) is still running (pid \(pid)): stop it first") }
        guard FileManager.default.fileExists(atPath: directory + "/identities.json") else {
            throw LabError(.notFound, "cannot restart the object store: its folder \(directory) is gone")
        }
        let binary = try WeedBinary.locate()
        Self.removeGRPCSockets(ports)
        let process = try ChildProcess.spawn(binary.path, Self.arguments(folder: directory, ports: ports), logPath: logPath)
        Self.writePidFile(process.pid, in: directory)
        let store = LocalObjectStore(directory: directory, ports: ports, credentials: credentials, bucket: bucket,
                                     logPath: logPath, process: process, ownsDirectory: ownsDirectory)
        do { try await store.waitUntilReady(timeout: startTimeout, creatingBucket: false) } catch {
            await store.kill()
            throw (error as? LabError) ?? LabError(.startFailed, "cannot restart the object store in \(directory) on port \(ports.s3): \(error)")
        }
        return store
    }

    /// Kills the store with SIGKILL, as a crash would, and waits for it to end. The folder stays.
    public func kill() async {
        process.send(SIGKILL)
        _ = await process.waitForExit(timeout: .seconds(10))
    }

    private func stop(grace: Duration, removingFolder: Bool) async {
        if process.isRunning { _ = await process.terminate(grace: grace) }
        guard !process.isRunning else { return }
        Self.removeGRPCSockets(ports)
        // Never remove the folder under a running weed: it would hang.
        if removingFolder { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The file holding the running `weed`'s pid, in the store's folder: `weed mini` writes
    /// none, and a later run's `stop NAME` finds a store an earlier `--keep` run left by
    /// it (``KeptServer``).
    static let pidFileName = "weed.pid"

    /// Writes ``pidFileName`` (temporary name, then rename, so a reader never sees half a
    /// number). Best effort: a store without it runs as well, only a later run cannot
    /// find it to stop it.
    static func writePidFile(_ pid: pid_t, in folder: String) {
        let path = folder + "/" + pidFileName
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data("\(pid)\n".utf8)) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// The ports named in a `weed` command line made by ``arguments(folder:ports:)``, or
    /// nil if one is missing: so that the sockets of a store an earlier run left can be
    /// removed once it has been stopped.
    static func ports(fromArguments arguments: [String]) -> Ports? {
        var values: [String: Int] = [:]
        for argument in arguments where argument.hasPrefix("-") {
            guard let equals = argument.firstIndex(of: "="), let value = Int(argument[argument.index(after: equals)...]) else { continue }
            values[String(argument[argument.index(after: argument.startIndex)..<equals])] = value
        }
        guard let s3 = values["s3.port"], let s3GRPC = values["s3.port.grpc"], let master = values["master.port"],
              let masterGRPC = values["master.port.grpc"], let volume = values["volume.port"], let volumeGRPC = values["volume.port.grpc"],
              let filer = values["filer.port"], let filerGRPC = values["filer.port.grpc"], let admin = values["admin.port"],
              let adminGRPC = values["admin.port.grpc"], let metrics = values["metricsPort"] else { return nil }
        return Ports(s3: s3, s3GRPC: s3GRPC, master: master, masterGRPC: masterGRPC, volume: volume, volumeGRPC: volumeGRPC,
                     filer: filer, filerGRPC: filerGRPC, admin: admin, adminGRPC: adminGRPC, metrics: metrics)
    }

    /// SeaweedFS puts gRPC sockets at fixed places in /tmp, named by port, and leaves some
    /// behind when it exits. They are removed for this store's ports once it has ended
    /// (and before it starts, in case an earlier store on the same ports crashed).
    static func removeGRPCSockets(_ ports: Ports) {
        for (component, port) in [("master", ports.masterGRPC), ("volume", ports.volumeGRPC), ("filer", ports.filerGRPC),
                                  ("s3", ports.s3GRPC), ("admin", ports.adminGRPC)] {
            unlink("/tmp/seaweedfs-\(component)-grpc-\(port).sock")
        }
    }

    // MARK: - Internals

    private struct PortTaken: Error {}

    private func waitUntilReady(timeout: Duration, creatingBucket: Bool = true) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var configuration = self.configuration
        configuration.connectTimeout = .milliseconds(500)
        configuration.requestTimeout = .seconds(5)
        let client = try S3Client(configuration: configuration, bucket: bucket ?? "redkeep-probe")
        var lastProblem = "no answer yet"
        while clock.now < deadline {
            if let status = process.exitStatus {
                await client.shutdown()
                let log = Lab.tail(logPath, count: 12)
                if log.contains("address already in use") { throw PortTaken() }
                throw LabError(.startFailed, "weed mini exited at once (\(status)) in \(directory) (S3 port \(ports.s3))").adding(log: log)
            }
            do {
                if bucket != nil && creatingBucket { try await client.createBucket() } else { _ = try await client.bucketExists() }
                // A restarted store answers for its bucket before its volume server is back
                // with the master: until then reading an object it holds fails (500). Ready
                // means an object can be read.
                if bucket != nil && !creatingBucket, let object = try await client.listObjects(maxKeys: 1).objects.first {
                    _ = try await client.getObject(object.key, range: object.size > 0 ? 0..<1 : nil, allowingShorter: true)
                }
                await client.shutdown()
                return
            } catch {
                lastProblem = error.description
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        await client.shutdown()
        throw LabError(.timeout, "the object store in \(directory) did not answer on 127.0.0.1:\(ports.s3) within \(timeout) (\(lastProblem))")
            .adding(log: Lab.tail(logPath, count: 12))
    }

    static func arguments(folder: String, ports: Ports) -> [String] {
        [
            "mini", "-dir=\(folder)/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-s3.port=\(ports.s3)", "-s3.port.grpc=\(ports.s3GRPC)", "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-s3.config=\(folder)/identities.json",
            // Like S3: writing to a bucket that does not exist is an error, not a new bucket.
            "-s3.autoCreateBucket=false",
            "-master.port=\(ports.master)", "-master.port.grpc=\(ports.masterGRPC)", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-volume.port=\(ports.volume)", "-volume.port.grpc=\(ports.volumeGRPC)",
            "-filer.port=\(ports.filer)", "-filer.port.grpc=\(ports.filerGRPC)",
            "-admin.ui=false", "-admin.port=\(ports.admin)", "-admin.port.grpc=\(ports.adminGRPC)",
            "-metricsPort=\(ports.metrics)", "-webdav=false",
            "-filer.localSocket=\(socketPath(folder, "filer", ports.filer))",
            "-s3.localSocket=\(socketPath(folder, "s3", ports.s3))",
        ]
    }

    /// Eleven distinct free loopback ports, the admin gRPC one at the admin port + 10000.
    static func freePorts() throws(LabError) -> Ports {
        var taken = Set<Int>()
        func next() throws(LabError) -> Int {
            for _ in 0..<50 {
                let port = try Lab.freePort()
                if taken.insert(port).inserted { return port }
            }
            throw LabError(.portUnavailable, "cannot find enough free ports on 127.0.0.1 for an object store")
        }
        var admin = 0
        for _ in 0..<50 {
            let candidate = try Lab.freePort()
            if candidate + 10000 <= 65535, Lab.portProblem(candidate + 10000) == nil {
                admin = candidate
                break
            }
        }
        guard admin != 0 else { throw LabError(.portUnavailable, "cannot find a free pair of ports N and N+10000 on 127.0.0.1 for an object store's admin server") }
        taken.insert(admin)
        taken.insert(admin + 10000)
        return Ports(s3: try next(), s3GRPC: try next(), master: try next(), masterGRPC: try next(), volume: try next(),
                     volumeGRPC: try next(), filer: try next(), filerGRPC: try next(), admin: admin, adminGRPC: admin + 10000,
                     metrics: try next())
    }

    /// A unix socket path inside the folder, or in the temporary folder when that would
    /// exceed the 107-byte limit.
    static func socketPath(_ folder: String, _ name: String, _ port: Int) -> String {
        let inside = "\(folder)/\(name).sock"
        if inside.utf8.count < 100 { return inside }
        return "\(NSTemporaryDirectory())redkeep-weed-\(getpid())-\(name)-\(port).sock"
    }

    /// The identities file: one identity with every action, readable by the owner only.
    static func writeIdentities(_ credentials: S3Credentials, to path: String) throws(LabError) {
        let identities: [String: Any] = ["identities": [[
            "name": "redkeep",
            "credentials": [["accessKey": credentials.accessKeyID, "secretKey": credentials.secretAccessKey.revealed]],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        ]]]
        do {
            let data = try JSONSerialization.data(withJSONObject: identities, options: [.sortedKeys])
            guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw LabError(.files, "cannot write the object store's identities file \(path)")
            }
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError(.files, "cannot write the object store's identities file \(path): \(error.localizedDescription)")
        }
    }

    static func makeTemporaryFolder() throws(LabError) -> String {
        var template = Array((NSTemporaryDirectory() + "redkeep-s3-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw LabError(.files, "cannot create a temporary folder for an object store in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    static func randomText(_ count: Int, alphabet: String) -> String {
        let letters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in letters[Int.random(in: 0..<letters.count, using: &generator)] })
    }
}

/// Runs `body` with a fresh local object store and stops it afterwards, whether `body`
/// returns or throws.
public func withLocalObjectStore<T: Sendable>(bucket: String? = "redkeep", _ body: (LocalObjectStore) async throws -> T) async throws -> T {
    let store = try await LocalObjectStore.start(bucket: bucket)
    do {
        let result = try await body(store)
        await store.stop()
        return result
    } catch {
        await store.stop()
        throw error
    }
}
