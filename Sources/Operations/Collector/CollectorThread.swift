import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The thread a collector does its blocking file work on (reads, sha256, fsync), in order.
/// It runs at a lower CPU priority (nice +10) so that on a busy host Redis and its clients
/// come first: the collector only takes what is left, and catches up when the load eases.
/// It is its own thread (not a shared pool's) because the nice value is per thread on Linux.
final class CollectorThread: Sendable {
    private final class Jobs: @unchecked Sendable {
        // Guarded by `condition`.
        let condition = NSCondition()
        var pending: [@Sendable () -> Void] = []
        var stopped = false
    }

    private let jobs = Jobs()

    /// Starts the thread.
    init(name: String, nice: Int32 = 10) {
        let jobs = self.jobs
        let thread = Thread {
            ThreadName.setCurrent(name)
            // On Linux the nice value belongs to the calling thread only.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
            while true {
                jobs.condition.lock()
                while jobs.pending.isEmpty && !jobs.stopped { jobs.condition.wait() }
                if jobs.pending.isEmpty {
                    jobs.condition.unlock()
                    return
                }
                let job = jobs.pending.removeFirst()
                jobs.condition.unlock()
                job()
            }
        }
        thread.name = name
        thread.start()
    }

    deinit { stop() }

    /// Runs `job` after the jobs already queued.
    func async(_ job: @escaping @Sendable () -> Void) {
        jobs.condition.lock()
        jobs.pending.append(job)
        jobs.condition.signal()
        jobs.condition.unlock()
    }

    /// Lets the thread end once the queued jobs are done.
    func stop() {
        jobs.condition.lock()
        jobs.stopped = true
        jobs.condition.signal()
        jobs.condition.unlock()
    }
}
