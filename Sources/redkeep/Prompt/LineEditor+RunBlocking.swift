import Foundation
import Synchronization

extension LineEditor {
    /// Runs `work` on the Swift concurrency pool and blocks the calling (main) thread until
    /// it finishes, returning its result. Ctrl-C meanwhile calls `onInterrupt` (which should
    /// cancel the running statement) instead of killing the process; a second Ctrl-C within
    /// a second, with `work` still running, exits with status 130 (atexit handlers run).
    ///
    /// The wait is a `poll` on the ``SignalPipe`` and on a pipe the task writes when done,
    /// so the SIGINT handler itself does nothing but write a byte.
    static func runBlocking<T: Sendable>(
        _ work: @escaping @Sendable () async -> T, onInterrupt: @escaping @Sendable () -> Void
    ) -> T {
        SignalPipe.install()
        SignalPipe.drain()  // Ctrl-C from before the statement started is stale
        let fds = SignalPipe.makePipe()
        let (doneRead, doneWrite) = (fds[0], fds[1])
        defer {
            close(doneRead)
            close(doneWrite)
        }
        let outcome = BlockingOutcome<T>()
        Task {
            outcome.set(await work())
            var byte: UInt8 = 1
            _ = write(doneWrite, &byte, 1)  // the main thread closes it only after reading this
        }
        var lastInterrupt: ContinuousClock.Instant?
        while true {
            var waits = [
                pollfd(fd: doneRead, events: Int16(POLLIN), revents: 0),
                pollfd(fd: SignalPipe.readFD, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&waits, 2, -1) >= 0 || errno == EINTR else {
                fatalError("redkeep: poll failed: \(String(cString: strerror(errno)))")
            }
            if waits[1].revents != 0 {
                for signal in SignalPipe.drain() where signal == SIGINT {
                    let now = ContinuousClock.now
                    if let lastInterrupt, now - lastInterrupt < .seconds(1) { exit(130) }
                    lastInterrupt = now
                    onInterrupt()
                }
            }
            if waits[0].revents != 0, let value = outcome.take() { return value }
        }
    }
}

/// The result of ``LineEditor/runBlocking(_:onInterrupt:)``'s task, handed to the main
/// thread. Named apart from the executable's other boxes.
private final class BlockingOutcome<T: Sendable>: Sendable {
    private let value = Mutex<T?>(nil)
    func set(_ v: T) { value.withLock { $0 = v } }
    func take() -> T? { value.withLock { $0.take() } }
}
