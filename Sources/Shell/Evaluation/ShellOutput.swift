import Dispatch
import Foundation
import Synchronization

/// Where a running interpreter writes: values and echo to standard output, errors and
/// progress to standard error. Tests capture it; the executable writes to the terminal.
public protocol ShellOutput: Sendable {
    /// Writes text meant for standard output.
    func write(_ text: String)
    /// Writes exact bytes meant for standard output (raw replies may not be UTF-8).
    func write(bytes: [UInt8])
    /// Writes text meant for standard error.
    func writeError(_ text: String)
    /// Writes out anything held back; called when a run of statements ends.
    func flush()
}

extension ShellOutput {
    /// Nothing is held back by default.
    public func flush() {}
}

/// The process's own standard output and error.
///
/// On a terminal every write goes out at once. Otherwise (a file, a pipe, /dev/null)
/// standard output is gathered and written in blocks: one `write(2)` per statement was a
/// measurable share of a script of plain commands. Nothing waits long: what is gathered
/// goes out within ``maximumDelay``, before anything is written to standard error (so
/// the two stay in order when they share a file), when a run of statements ends, and at
/// 64 KiB.
public final class StandardOutput: ShellOutput {
    /// The longest gathered output waits before it is written.
    public static let maximumDelay: DispatchTimeInterval = .milliseconds(50)
    private static let blockSize = 64 * 1024

    private struct Pending {
        var bytes: [UInt8] = []
        var flushScheduled = false
    }

    private let gathers: Bool
    // The lock is held while writing, so that gathered output, the delayed flush and
    // standard error reach the file descriptors in the order they were produced.
    private let pending = Mutex(Pending())

    /// Creates the sink; `gathering` defaults to true when standard output is not a terminal.
    public init(gathering: Bool = isatty(STDOUT_FILENO) != 1) {
        gathers = gathering
    }

    public func write(_ text: String) { write(bytes: Array(text.utf8)) }

    public func write(bytes: [UInt8]) {
        guard gathers else {
            pending.withLock { _ in Self.writeAll(bytes, to: STDOUT_FILENO) }
            return
        }
        let scheduleFlush = pending.withLock { state in
            state.bytes.append(contentsOf: bytes)
            if state.bytes.count >= Self.blockSize {
                Self.writeAll(state.bytes, to: STDOUT_FILENO)
                state.bytes.removeAll(keepingCapacity: true)
                return false
            }
            guard !state.flushScheduled else { return false }
            state.flushScheduled = true
            return true
        }
        if scheduleFlush {
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.maximumDelay) { [self] in flush() }
        }
    }

    public func writeError(_ text: String) {
        pending.withLock { state in
            Self.writeOut(&state)
            Self.writeAll(Array(text.utf8), to: STDERR_FILENO)
        }
    }

    public func flush() {
        pending.withLock { Self.writeOut(&$0) }
    }

    private static func writeOut(_ state: inout Pending) {
        state.flushScheduled = false
        guard !state.bytes.isEmpty else { return }
        writeAll(state.bytes, to: STDOUT_FILENO)
        state.bytes.removeAll(keepingCapacity: true)
    }

    /// write(2) until every byte is out. Any failure other than EINTR (a closed pipe, a
    /// full disk) drops the rest: there is nowhere left to report it.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var written = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Foundation.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
