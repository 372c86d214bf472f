import Foundation

/// Where a running interpreter writes: values and echo to standard output, errors and
/// progress to standard error. Tests capture it; the executable writes to the terminal.
public protocol ShellOutput: Sendable {
    /// Writes text meant for standard output.
    func write(_ text: String)
    /// Writes exact bytes meant for standard output (raw replies may not be UTF-8).
    func write(bytes: [UInt8])
    /// Writes text meant for standard error.
    func writeError(_ text: String)
}

/// The process's own standard output and error, unbuffered so that output and errors
/// interleave in the order they happen.
public struct StandardOutput: ShellOutput {
    /// Creates the sink.
    public init() {}

    public func write(_ text: String) { write(bytes: Array(text.utf8)) }

    public func write(bytes: [UInt8]) {
        bytes.withUnsafeBytes { FileHandle.standardOutput.write(Data($0)) }
    }

    public func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
