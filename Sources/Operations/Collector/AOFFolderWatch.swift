#if os(Linux)
import Glibc
#endif
import Synchronization

/// Watches the AOF folder with Linux inotify for the one file Redis creates only when the
/// AOF is switched from off to on: `temp-<appendfilename>.incr`.
///
/// Why: `CONFIG SET appendonly no`, writes, `CONFIG SET appendonly yes` can happen between
/// two looks at `aof_enabled` (one per `--interval`). The writes made while off are then in
/// the new base Redis writes, but in no stream, and a restore to a second inside the window
/// would silently miss them. Redis 7+ (and Valkey) open that temporary incr file
/// (`openNewIncrAofForAppend` in state `AOF_WAIT_REWRITE`, src/aof.c) only when the AOF is
/// started again; a plain BGREWRITEAOF opens a regular `.incr.aof` in the manifest instead.
/// The kernel queues the creation events until they are read, so no toggle between two
/// passes is missed, however short.
///
/// Not available (not Linux, or inotify refused, e.g. its limits): ``open(_:)`` says why
/// and the collector falls back to looking at `aof_enabled` only.
final class AOFFolderWatch: Sendable {
    /// What the folder saw since the last ``drain()``.
    struct Seen: Sendable, Equatable {
        /// The temporary incr files created (names), each an off/on toggle of the AOF.
        var toggles: [String] = []
        /// The kernel's queue overflowed: events were lost, a toggle may be among them.
        var overflowed = false
    }

    /// The inotify descriptor, -1 once closed.
    private let descriptor: Mutex<Int32>

    private init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    deinit { close() }

    /// True for the temporary incr file Redis creates when the AOF is switched on
    /// (`getTempIncrAofName`: `temp-` + appendfilename + `.incr`).
    static func isToggleFile(_ name: String) -> Bool {
        name.hasPrefix("temp-") && name.hasSuffix(".incr")
    }

    /// Starts watching `directory` for files created in or moved into it.
    static func open(_ directory: String) -> Result<AOFFolderWatch, WatchUnavailable> {
        #if os(Linux)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            return .failure(WatchUnavailable("inotify_init1 failed: \(String(cString: strerror(errno)))"))
        }
        guard inotify_add_watch(fd, directory, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            return .failure(WatchUnavailable("inotify_add_watch on \(directory) failed: \(why)"))
        }
        return .success(AOFFolderWatch(descriptor: fd))
        #else
        return .failure(WatchUnavailable("inotify is Linux only"))
        #endif
    }

    /// Why the folder cannot be watched.
    struct WatchUnavailable: Error, Sendable {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Reads every event queued since the last call (never blocks).
    func drain() -> Seen {
        var seen = Seen()
        #if os(Linux)
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            let header = MemoryLayout<inotify_event>.size
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard count > 0 else { return }  // EAGAIN: the queue is empty (or an error: nothing to read)
                buffer.withUnsafeBytes { raw in
                    var at = 0
                    while at + header <= count {
                        let mask = raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self)
                        let length = Int(raw.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self))
                        let nameBytes = raw[(at + header)..<min(at + header + length, count)].prefix { $0 != 0 }
                        let name = String(decoding: nameBytes, as: UTF8.self)
                        if mask & UInt32(IN_Q_OVERFLOW) != 0 { seen.overflowed = true }
                        if Self.isToggleFile(name) { seen.toggles.append(name) }
                        at += header + length
                    }
                }
            }
        }
        #endif
        return seen
    }

    /// Stops watching (idempotent).
    func close() {
        descriptor.withLock { fd in
            #if os(Linux)
            if fd >= 0 { Glibc.close(fd) }
            #endif
            fd = -1
        }
    }
}
