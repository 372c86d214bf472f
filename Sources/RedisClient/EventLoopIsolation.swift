import NIOCore

/// An actor that runs on one event loop. Code isolated to it gets each reply of a
/// connection on the same loop with a single trip through the loop's task queue.
///
/// Why: when SwiftNIO is the concurrency global executor (as in redkeep), a task on the
/// generic executor that awaits a reply is resumed through the global queue and then
/// hops once more, because NIO runs jobs as its loop's serial executor, not as the
/// generic one. For a sequential client that is a measurable share of each command.
///
/// ```swift
/// let connection = try await RedisConnection.connect(configuration, group: loop)
/// try await EventLoopIsolation(connection.eventLoop).run { _ in
///     for _ in 0..<100_000 { _ = try await connection.send(["SET", "k", "v"]) }
/// }
/// ```
public actor EventLoopIsolation {
    /// The loop this actor runs on.
    public nonisolated let loop: any NIOSerialEventLoopExecutor

    // The loop itself, not `loop.executor`: through `any EventLoop` that wraps the loop in
    // a new object whose identity differs from the loop's, and each resumption hopped.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

    /// An actor on `loop`. NIOPosix's loops are their own serial executors; any other
    /// loop is refused.
    public init(_ loop: any EventLoop) {
        guard let serial = loop as? any NIOSerialEventLoopExecutor else {
            preconditionFailure("\(loop) is not a serial executor (NIOPosix's event loops are)")
        }
        self.loop = serial
    }

    /// Runs `body` isolated to this actor, on the loop.
    public func run<T: Sendable>(_ body: @Sendable (isolated EventLoopIsolation) async throws -> T) async rethrows -> T {
        try await body(self)
    }
}
