import Synchronization

/// Lets a long foreground command (`chunk run`) take SIGTERM and SIGINT for itself: while
/// a handler is installed the process's signal handler calls it instead of exiting, so the
/// command can finish its work (copy what is pending) and the run ends with exit 0.
public enum ForegroundInterrupt {
    private static let handlers = Mutex<[Int: @Sendable () -> Void]>([:])
    private static let counter = Mutex(0)

    /// Installs a handler; returns the token that removes it.
    static func install(_ handler: @escaping @Sendable () -> Void) -> Int {
        let token = counter.withLock { n in
            n += 1
            return n
        }
        handlers.withLock { $0[token] = handler }
        return token
    }

    /// Removes a handler.
    static func remove(_ token: Int) { _ = handlers.withLock { $0.removeValue(forKey: token) } }

    /// Called by the process's signal handler: true when a foreground command took the
    /// signal (and the process must not exit).
    public static func deliver() -> Bool {
        let current = handlers.withLock { Array($0.values) }
        for handler in current { handler() }
        return !current.isEmpty
    }
}
