import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU scheduling of a collector's shipping to object storage (`--upload-priority`):
/// its upload thread and the network I/O thread of its S3 client, never the copying from
/// the AOF. The spool lets shipping wait, copying cannot (a late copy may lose an incr
/// file to a rewrite), so by default shipping yields the CPU to Redis.
public enum UploadPriority: String, Sendable, Hashable, CaseIterable {
    /// Whatever the threads inherit (the collector's own thread priority).
    case normal
    /// Nice 19: the smallest share of a busy CPU, but a share, so a saturated host still
    /// ships.
    case low
    /// SCHED_IDLE: only the cycles nothing else wants. On a host whose CPUs never idle the
    /// backlog grows in the spool until they do (`chunk status` shows it).
    case idle

    /// What `chunk start` uses when not told.
    public static let `default` = UploadPriority.low

    /// Puts the calling thread at this priority (on Linux nice and scheduling policy are
    /// per thread, and threads it creates inherit them). Returns why it could not (the
    /// thread then stays as it was), nil when done or nothing was asked.
    public func applyToCurrentThread() -> String? {
        switch self {
        case .normal:
            return nil
        case .low:
            #if os(Linux)
            // Linux's setpriority(PRIO_PROCESS, 0) is the calling thread's (nice is per thread).
            guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19) == 0 else {
                return "setpriority(nice 19): \(String(cString: strerror(errno)))"
            }
            return nil
            #elseif canImport(Darwin)
            // Darwin's setpriority is per process: a thread lowers itself by its QoS class.
            let result = pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0)
            return result == 0 ? nil : "pthread_set_qos_class_self_np(utility): \(String(cString: strerror(result)))"
            #else
            return "no way to lower a thread's priority on this system"
            #endif
        case .idle:
            #if os(Linux)
            var parameter = sched_param()
            parameter.sched_priority = 0
            // 0: the calling thread. SCHED_IDLE (5) is a GNU name Glibc's module leaves out.
            guard sched_setscheduler(0, 5, &parameter) == 0 else {
                return "sched_setscheduler(SCHED_IDLE): \(String(cString: strerror(errno)))"
            }
            return nil
            #elseif canImport(Darwin)
            let result = pthread_set_qos_class_self_np(QOS_CLASS_BACKGROUND, 0)
            return result == 0 ? nil : "pthread_set_qos_class_self_np(background): \(String(cString: strerror(result)))"
            #else
            return "no way to lower a thread's priority on this system"
            #endif
        }
    }
}
