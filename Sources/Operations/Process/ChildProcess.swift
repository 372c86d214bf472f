import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// `exit(code)`.
    case exited(Int32)
    /// Killed by a signal.
    case signaled(Int32)

    /// "exit status 1" or "signal 9 (Killed)".
    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "signal \(signal) (\(String(cString: strsignal(signal))))"
        }
    }

    init(waitStatus status: Int32) {
        // WIFEXITED/WEXITSTATUS are C macros that Swift cannot import.
        if status & 0x7f == 0 { self = .exited((status >> 8) & 0xff) } else { self = .signaled(status & 0x7f) }
    }
}

/// A process started with posix_spawn, in a process group of its own (so a Ctrl-C typed
/// at the terminal reaches redkeep, which decides what to stop), with stdin from /dev/null
/// and stdout and stderr appended to a log file. Reaped exactly once.
final class ChildProcess: Sendable {
    let pid: pid_t
    private let status = Mutex<ExitStatus?>(nil)

    private init(pid: pid_t) { self.pid = pid }

    /// Starts `executable` with `arguments` (argv[1...]).
    static func spawn(_ executable: String, _ arguments: [String], logPath: String) throws(LabError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of redkeep's crosses over: not its sockets to other servers, not a
        // pipe a parent waits on (a server left running by `--keep` would hold the pipe
        // open and keep that parent waiting for an end of file that never comes).
        closeInheritedDescriptors(&actions)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw LabError(.binaryMissing, "cannot run \(executable): \(String(cString: strerror(rc)))")
        }
        let child = ChildProcess(pid: pid)
        ProcessRegistry.shared.add(pid)
        return child
    }

    /// Adds "close every descriptor from 3 up" to `actions`: glibc's
    /// posix_spawn_file_actions_addclosefrom_np (2.34 and later; looked up at run time, as
    /// Swift's Glibc module does not declare it), else one close per descriptor open now.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"),
           unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3) == 0 {
            return
        }
        // A descriptor closed meanwhile is harmless: the child ignores EBADF from these.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
    }

    /// How the process ended, or nil while it runs. Never blocks.
    var exitStatus: ExitStatus? {
        status.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            let rc = waitpid(pid, &raw, WNOHANG)
            guard rc == pid else { return nil }
            known = ExitStatus(waitStatus: raw)
            ProcessRegistry.shared.remove(pid)
            return known
        }
    }

    /// True until the process has ended.
    var isRunning: Bool { exitStatus == nil }

    /// Sends `signal` if the process still runs.
    func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `timeout` for the process to end; nil if it still runs.
    func waitForExit(timeout: Duration) async -> ExitStatus? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let status = exitStatus { return status }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return exitStatus
    }

    /// SIGTERM, then SIGKILL if the process has not ended within `grace`.
    func terminate(grace: Duration) async -> ExitStatus {
        send(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        send(SIGKILL)
        return await waitForExit(timeout: .seconds(10)) ?? .signaled(SIGKILL)
    }
}

/// Every server process this program started and has not seen end, so that a signal
/// handler or an exit hook can stop them all when the program ends in a hurry.
public final class ProcessRegistry: Sendable {
    /// The one registry of this process.
    public static let shared = ProcessRegistry()
    private let pids = Mutex<Set<pid_t>>([])

    func add(_ pid: pid_t) { pids.withLock { _ = $0.insert(pid) } }
    func remove(_ pid: pid_t) { pids.withLock { _ = $0.remove(pid) } }

    /// Process ids still running (as far as the registry knows).
    public var running: Set<pid_t> { pids.withLock { $0 } }

    /// Stops every registered process: SIGTERM, up to `grace` to exit, then SIGKILL.
    /// Synchronous, for signal and exit paths where no task can be awaited.
    public func stopAllNow(grace: Duration = .seconds(5)) {
        let all = pids.withLock { $0 }
        for pid in all { kill(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        var left = all
        while !left.isEmpty && ContinuousClock.now < deadline {
            left = left.filter { pid in
                var raw: Int32 = 0
                return waitpid(pid, &raw, WNOHANG) == 0
            }
            if !left.isEmpty { usleep(5_000) }
        }
        for pid in left {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
        pids.withLock { $0.subtract(all) }
    }
}
