import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a tool (redis-benchmark, redis-check-aof, taskset...) to completion and captures
/// what it printed, stdout and stderr together.
public enum ExternalCommand {
    /// The outcome of one run.
    public struct Result: Sendable {
        /// How it ended.
        public var status: ExitStatus
        /// Everything it printed.
        public var output: String
        /// True for exit status 0.
        public var succeeded: Bool { status == .exited(0) }
    }

    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` and waits.
    public static func run(_ executable: String, _ arguments: [String]) async throws(LabError) -> Result {
        let path: String
        if executable.contains("/") {
            path = executable
        } else {
            guard let found = ServerBinary.findOnPath(executable, environment: ProcessInfo.processInfo.environment) else {
                throw LabError(.binaryMissing, "\(executable) is not on PATH")
            }
            path = found
        }
        let capture = NSTemporaryDirectory() + "redkeep-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).out"
        defer { unlink(capture) }
        let child = try ChildProcess.spawn(path, arguments, logPath: capture)
        var status: ExitStatus? = nil
        while status == nil {
            status = await child.waitForExit(timeout: .seconds(3600))
        }
        let output = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
        return Result(status: status!, output: output)
    }

    /// The path of `name` on PATH, or nil.
    public static func find(_ name: String) -> String? {
        ServerBinary.findOnPath(name, environment: ProcessInfo.processInfo.environment)
    }
}
