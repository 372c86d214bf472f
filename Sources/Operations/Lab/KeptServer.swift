import Foundation

/// A server or object store an earlier run left running (`redkeep --keep`): found by its
/// folder in a Lab's temporary folder, `redkeep-lab-*/NAME`, and the pid file there
/// (`redis.pid`, which the server's configuration names, or `weed.pid`, which the Lab
/// writes for an object store started with `start NAME --s3`), so a later run's
/// `stop NAME` can stop it.
public struct KeptServer: Sendable {
    /// What was left running.
    public enum Kind: String, Sendable {
        /// A redis-server (or Sentinel).
        case redis
        /// A Lab object store (SeaweedFS).
        case objectStore = "object store"
    }

    /// The server's name (its folder's name).
    public let name: String
    /// Its folder, where its data stays after it stops.
    public let directory: String
    /// Its process id, read from the pid file.
    public let pid: pid_t
    /// A redis-server or an object store.
    public let kind: Kind

    /// The running server or object store called `name` that a kept Lab left in
    /// `temporaryFolder`, or nil. A pid file whose process is gone, or is not that
    /// folder's process, does not count: the pid may have been reused. A redis-server runs
    /// in its folder (its working directory is its `dir`); an object store's command line
    /// names its folder's `data` as `-dir`.
    public static func find(_ name: String, in temporaryFolder: String = NSTemporaryDirectory()) -> KeptServer? {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return nil }
        let labs = (try? FileManager.default.contentsOfDirectory(atPath: temporaryFolder)) ?? []
        for lab in labs.sorted() where lab.hasPrefix("redkeep-lab-") {
            let directory = (temporaryFolder as NSString).appendingPathComponent(lab) + "/" + name
            if let pid = runningPid(in: directory + "/redis.pid"), workingDirectory(of: pid) == resolved(directory) {
                return KeptServer(name: name, directory: directory, pid: pid, kind: .redis)
            }
            if let pid = runningPid(in: directory + "/" + LocalObjectStore.pidFileName),
               let dataFolder = argument("-dir=", of: pid), resolved(dataFolder) == resolved(directory + "/data") {
                return KeptServer(name: name, directory: directory, pid: pid, kind: .objectStore)
            }
        }
        return nil
    }

    /// Stops it as ``Lab/stop(_:)`` does: SIGTERM (Redis saves what its configuration asks
    /// for; SeaweedFS takes a few seconds), then SIGKILL if it has not exited after
    /// `grace`. Throws if it still runs after that.
    public func stop(grace: Duration = .seconds(15)) async throws(LabError) {
        // Read while the process runs: its command line names them.
        let ports = sockets
        guard kill(pid, SIGTERM) == 0 else {
            throw LabError(.stopFailed, "cannot stop \(name) (pid \(pid), left running by an earlier --keep run): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + grace
        while Self.isAlive(pid) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if Self.isAlive(pid) {
            kill(pid, SIGKILL)
            let killDeadline = ContinuousClock.now + .seconds(5)
            while Self.isAlive(pid) && ContinuousClock.now < killDeadline { try? await Task.sleep(for: .milliseconds(20)) }
        }
        if Self.isAlive(pid) {
            throw LabError(.stopFailed, "\(name) (pid \(pid), left running by an earlier --keep run) still runs after SIGTERM and SIGKILL")
        }
        // SeaweedFS leaves gRPC sockets in /tmp named by port, as after a store of this run.
        if let ports { LocalObjectStore.removeGRPCSockets(ports) }
    }

    /// An object store's ports, from its command line (so only while it runs).
    private var sockets: LocalObjectStore.Ports? {
        guard kind == .objectStore else { return nil }
        return LocalObjectStore.ports(fromArguments: Self.arguments(of: pid))
    }

    /// True while `pid` runs: it exists and is not a zombie waiting for a parent (an
    /// orphan whose new parent does not reap it still answers kill(pid, 0)).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    /// The pid in a pid file, if that process runs.
    private static func runningPid(in pidFile: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1, isAlive(pid) else { return nil }
        return pid
    }

    /// The process's arguments (argv), from /proc.
    private static func arguments(of pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of the process's argument that starts with `prefix`, without the prefix.
    private static func argument(_ prefix: String, of pid: pid_t) -> String? {
        arguments(of: pid).first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    private static func workingDirectory(of pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
