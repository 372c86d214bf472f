import Foundation

/// Signals turned into bytes on a pipe (the self-pipe trick).
///
/// A signal handler may only call async-signal-safe functions, which rules out readline,
/// Swift allocation and locks. So the handler writes one byte (the signal number) to a
/// non-blocking pipe and returns; the main thread polls the read end together with
/// stdin (or with a statement's completion) and does the real work outside the handler.
enum SignalPipe {
    /// The end the main thread polls and drains. -1 until ``install()``.
    nonisolated(unsafe) private(set) static var readFD: Int32 = -1
    /// The end the handler writes. Set once, before any handler can run, so the handler
    /// only ever reads an initialized global.
    nonisolated(unsafe) fileprivate static var writeFD: Int32 = -1

    /// Creates the pipe and catches SIGINT for good: from then on Ctrl-C never kills the
    /// process, it is delivered to whoever waits (the prompt or a running statement), and
    /// one pressed while nothing waits is dropped at the next wait. Idempotent; main thread.
    static func install() {
        guard readFD < 0 else { return }
        // Non-blocking: a full pipe must never block a handler, and draining must stop
        // when it is empty.
        let fds = makePipe()
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        writeFD = fds[1]
        readFD = fds[0]
        _ = catching(SIGINT)
    }

    /// A pipe whose ends are closed in child processes: (read, write). pipe2 with
    /// O_CLOEXEC is a GNU extension Swift does not import, hence fcntl.
    static func makePipe() -> [Int32] {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            fatalError("redkeep: cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fds
    }

    /// Sends `signal` to the pipe; returns the action it replaces, for ``restore(_:_:)``.
    static func catching(_ signal: Int32) -> sigaction {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = signalPipeHandler
        sigemptyset(&action.sa_mask)
        // SA_RESTART: NIO's threads may take the signal; their system calls go on.
        action.sa_flags = SA_RESTART
        var previous = sigaction()
        sigaction(signal, &action, &previous)
        return previous
    }

    /// Puts back what ``catching(_:)`` replaced.
    static func restore(_ signal: Int32, _ previous: sigaction) {
        var previous = previous
        sigaction(signal, &previous, nil)
    }

    /// The signals that arrived since the last call, in order, without waiting.
    @discardableResult
    static func drain() -> [Int32] {
        guard readFD >= 0 else { return [] }
        var received: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = read(readFD, &buffer, buffer.count)
            if n > 0 {
                received += buffer[0..<n].map(Int32.init)
            } else if n < 0, errno == EINTR {
                continue
            } else {
                return received  // empty (EAGAIN) or closed
            }
        }
    }
}

/// The handler: one `write(2)` of the signal number, errno preserved, nothing else.
private let signalPipeHandler: @convention(c) (Int32) -> Void = { signal in
    let savedErrno = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(SignalPipe.writeFD, &byte, 1)
    errno = savedErrno
}
