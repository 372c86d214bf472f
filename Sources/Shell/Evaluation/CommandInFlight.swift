import RedisClient
import Synchronization

/// The connection a statement is waiting on, so that cancelling a run (Ctrl-C at the
/// prompt) can close it from another thread and the statement stops at once, even in
/// `BLPOP list 0`.
///
/// One cancellation handler around a whole run reads it (see ``Interpreter/run(_:name:firstLine:showingValues:)``),
/// instead of one handler added and removed per command: that was about 2% of the time
/// of a script of plain SETs.
final class CommandInFlight: Sendable {
    private let connection = Mutex<RedisConnection?>(nil)

    /// Notes that a command is about to wait on `connection`. Throws if the task is
    /// cancelled already: a cancellation that came just before this call found nothing
    /// to close, and one that comes after it will find `connection`.
    func begin(on connection: RedisConnection) throws(CancellationError) {
        self.connection.withLock { $0 = connection }
        if Task.isCancelled {
            end()
            throw CancellationError()
        }
    }

    /// Notes that the command's reply is in (or that it failed).
    func end() {
        connection.withLock { $0 = nil }
    }

    /// Closes the connection a command waits on, if any: its wait fails at once.
    func abort() {
        connection.withLock { $0 }?.abort()
    }
}
