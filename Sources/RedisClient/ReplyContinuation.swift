/// The continuation a request's caller waits on, as swift-nio does it: checked in debug
/// builds, so a request resumed twice or never is reported where it happens; unsafe in
/// release builds, where a checked one costs an allocation per command. The handler's
/// state machine removes a request before resuming it, so each is resumed exactly once.
#if DEBUG
typealias ReplyContinuation<T> = CheckedContinuation<T, any Error>
#else
typealias ReplyContinuation<T> = UnsafeContinuation<T, any Error>
#endif

/// Suspends until `body`'s continuation is resumed; `isolation` is the caller's actor,
/// so the wait starts and ends there with no hop to another executor.
@inline(__always)
func withReplyContinuation<T>(isolation: isolated (any Actor)?,
                              _ body: (ReplyContinuation<T>) -> Void) async throws -> T {
    #if DEBUG
    try await withCheckedThrowingContinuation(isolation: isolation, body)
    #else
    try await withUnsafeThrowingContinuation(isolation: isolation, body)
    #endif
}
