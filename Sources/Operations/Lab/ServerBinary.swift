import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The redis-server (or valkey-server) executable the Lab runs, and what it says it is.
public struct ServerBinary: Sendable, Hashable, CustomStringConvertible {
    /// Absolute path of the executable.
    public let path: String
    /// `Redis` or `Valkey`, from its `--version` output.
    public let product: String
    /// `7.0.15`, from its `--version` output.
    public let version: String

    /// `Redis 7.0.15 (/usr/bin/redis-server)`.
    public var description: String { "\(product) \(version) (\(path))" }

    /// The version as numbers, for feature checks: `[7, 0, 15]`.
    public var versionNumbers: [Int] { version.split(separator: ".").compactMap { Int($0) } }

    /// `REDKEEP_SERVER` (a path, or a name looked up on PATH), else `redis-server` on PATH,
    /// else `valkey-server` on PATH; throws saying how to install one when none is found.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(LabError) -> ServerBinary {
        if let chosen = environment["REDKEEP_SERVER"], !chosen.isEmpty {
            guard let path = chosen.contains("/") ? (isExecutable(chosen) ? chosen : nil)
                                                  : findOnPath(chosen, environment: environment) else {
                throw LabError(.binaryMissing, "REDKEEP_SERVER is \"\(chosen)\", which is not an executable file\(chosen.contains("/") ? "" : " on PATH")")
            }
            return try probe(path)
        }
        for name in ["redis-server", "valkey-server"] {
            if let path = findOnPath(name, environment: environment) { return try probe(path) }
        }
        throw LabError(.binaryMissing, """
            no Redis server binary found: neither redis-server nor valkey-server is on PATH. \
            Install one (Debian/Ubuntu: apt-get install redis-server), or set REDKEEP_SERVER \
            to the path of redis-server or valkey-server
            """)
    }

    /// Runs `path --version` and reads the product and version from its output.
    public static func probe(_ path: String) throws(LabError) -> ServerBinary {
        let output = NSTemporaryDirectory() + "redkeep-version-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        defer { unlink(output) }
        let child = try ChildProcess.spawn(path, ["--version"], logPath: output)
        var raw: Int32 = 0
        waitpid(child.pid, &raw, 0)
        ProcessRegistry.shared.remove(child.pid)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=..."
        // "Valkey server v=8.0.1 sha=..."
        guard let v = text.split(separator: " ").first(where: { $0.hasPrefix("v=") }) else {
            throw LabError(.binaryMissing, "\(path) --version did not print a server version (it printed \"\(text.prefix(80).trimmingCharacters(in: .whitespacesAndNewlines))\"); is it redis-server or valkey-server?")
        }
        let product = text.hasPrefix("Valkey") ? "Valkey" : "Redis"
        return ServerBinary(path: path, product: product, version: String(v.dropFirst(2)))
    }

    static func findOnPath(_ name: String, environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    static func isExecutable(_ path: String) -> Bool {
        var st = stat()
        return access(path, X_OK) == 0 && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }
}
