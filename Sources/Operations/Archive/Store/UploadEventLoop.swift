import Foundation
import NIOCore
import NIOPosix
import S3
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The uploader's own network I/O thread: a one-thread event loop group at the upload
/// priority, named ``threadName``, on which the uploader's S3 client runs its connections
/// and (as the task executor of its calls) the work between them, the SHA-256 and MD5 of
/// each PUT included. The shared NIO group of the process stays at its priority, so the
/// rest of the collector (and other clients) never wait on a lowered thread.
final class UploadEventLoop: Sendable {
    /// The thread's name, as in /proc/PID/task/TID/comm (15 characters at most on Linux).
    static let threadName = "redkeep-upl-io"
    let group: MultiThreadedEventLoopGroup
    /// Runs the jobs of a task on the loop's thread.
    let executor: EventLoopTaskExecutor
    /// Why the priority could not be set on the thread (nil: set, or nothing asked).
    let priorityProblem: String?

    /// Starts the thread and puts it at `priority` (waiting for that, a moment).
    init(priority: UploadPriority) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        executor = EventLoopTaskExecutor(loop)
        let setUp = loop.submit { () -> String? in
            ThreadName.setCurrent(Self.threadName)
            return priority.applyToCurrentThread()
        }
        // The job is a couple of system calls on a fresh loop: it cannot fail or hang.
        do { priorityProblem = try setUp.wait() } catch { priorityProblem = "the event loop did not run its set-up: \(error)" }
    }

    /// Closes `client`'s connections, then stops the thread. Not to be called on the loop.
    func shutDown(after client: S3Client?) {
        if let client {
            let done = DispatchSemaphore(value: 0)
            Task.detached(executorPreference: executor) {
                await client.shutdown()
                done.signal()
            }
            // Closing idle connections is local; a stuck close is bounded anyway.
            _ = done.wait(timeout: .now() + 10)
        }
        executor.close()
        try? group.syncShutdownGracefully()
    }
}

/// A task executor running every job on one event loop: async calls started with it as
/// their preference run there between their suspensions, not on the shared pool. Once the
/// loop is closed, a late job (a call still finishing on another thread) runs on a
/// global queue instead of being dropped, which would leave its caller waiting forever.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop
    private let open = Mutex(true)

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // Under the lock, so no job reaches the loop after close() (the loop runs every
        // job queued before its shutdown).
        let queued = open.withLock { isOpen in
            if isOpen { loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) } }
            return isOpen
        }
        if !queued { DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) } }
    }

    /// Sends later jobs elsewhere; called before the loop shuts down.
    func close() { open.withLock { $0 = false } }
}
