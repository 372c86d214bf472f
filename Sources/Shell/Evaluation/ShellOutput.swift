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
        // write(2) straight from the array: FileHandle needs a Data copy per call, and a
        // script prints once per statement. Any failure other than EINTR hands what is
        // left to FileHandle, so errors behave as they always did.
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Foundation.write(STDOUT_FILENO, raw.baseAddress! + written, raw.count - written)
            }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                bytes[written...].withUnsafeBytes { FileHandle.standardOutput.write(Data($0)) }
                return
            }
        }
    }

    public func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
