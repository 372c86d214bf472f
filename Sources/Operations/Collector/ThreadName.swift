import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Names the calling thread as `ps -L`, `top -H` and /proc/PID/task/TID/comm show it, so
/// an operator (and a test) can tell the collector's threads apart.
enum ThreadName {
    /// Sets the calling thread's name (cut to 15 bytes, the kernel's limit). Foundation's
    /// `Thread.name` does not reliably reach the kernel on Linux (it names the OS thread
    /// only once the starting thread has recorded it), so Linux writes the comm file.
    static func setCurrent(_ name: String) {
        #if os(Linux)
        let bytes = Array(name.utf8.prefix(15))
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #else
        Thread.current.name = name
        #endif
    }
}
