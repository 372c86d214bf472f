import Foundation

/// A server an earlier run left running (`redkeep --keep`): found by its folder in a Lab's
/// temporary folder, `redkeep-lab-*/NAME`, and the pid file its configuration names
/// (`redis.pid`), so a later run's `stop NAME` can stop it.
public struct KeptServer: Sendable {
    /// The server's name (its folder's name).
    public let name: String
    /// Its folder, where its data stays after it stops.
    public let directory: String
    /// Its process id, read from the pid file.
    public let pid: pid_t

    /// The running server called `name` that a kept Lab left in `temporaryFolder`, or nil.
    /// A pid file whose process is gone, or is not running in that folder (its working
    /// directory is the server's `dir`), does not count: the pid may have been reused.
    public static func find(_ name: String, in temporaryFolder: String = NSTemporaryDirectory()) -> KeptServer? {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else { return nil }
        let labs = (try? FileManager.default.contentsOfDirectory(atPath: temporaryFolder)) ?? []
        for lab in labs.sorted() where lab.hasPrefix("redkeep-lab-") {
            let directory = (temporaryFolder as NSString).appendingPathComponent(lab) + "/" + name
            guard let text = try? String(contentsOfFile: directory + "/redis.pid", encoding: .utf8),
                  let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
                  isAlive(pid), workingDirectory(of: pid) == resolved(directory) else { continue }
            return KeptServer(name: name, directory: directory, pid: pid)
        }
        return nil
    }

    /// Stops it as ``Lab/stop(_:)`` does: SIGTERM (Redis saves what its configuration asks
    /// for), then SIGKILL if it has not exited after `grace`.
    public func stop(grace: Duration = .seconds(15)) async throws(LabError) {
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
    }

    /// True while `pid` runs: it exists and is not a zombie waiting for a parent (an
    /// orphan whose new parent does not reap it still answers kill(pid, 0)).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first != "Z"
    }

    private static func workingDirectory(of pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
