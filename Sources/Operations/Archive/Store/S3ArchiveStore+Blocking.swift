import Foundation
import NIOPosix
import S3

extension S3ArchiveStore {
    /// Runs one async client call and blocks the calling thread until it is done: store
    /// calls are synchronous (see ``ArchiveStore``) and are made from the collector's
    /// thread or NIO's thread pool. The call itself runs on the store's `executor` (the
    /// uploader's I/O thread, at the upload priority) or else on Swift's shared pool.
    /// Blocking an event loop here would stall the very connections the call waits for,
    /// so that is refused outright.
    ///
    /// The wait has no timeout of its own: every request the client sends is bounded by
    /// its configuration's connect and request timeouts, so `body` always ends.
    func blocking<T: Sendable, Failure: Error>(_ body: @escaping @Sendable () async throws(Failure) -> T) throws(Failure) -> T {
        precondition(MultiThreadedEventLoopGroup.currentEventLoop == nil,
                     "an S3 archive store was called on an event loop; run archive work through ArchiveIO.run")
        let box = BlockingResult<T, Failure>()
        let done = DispatchSemaphore(value: 0)
        Task.detached(executorPreference: executor) {
            do throws(Failure) { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        // The semaphore orders the write above before this read.
        return try box.result!.get()
    }

    /// The archive error for a failed request about `key` (nil for the whole store).
    func archiveError(_ error: S3Error, key: String?) -> ArchiveError {
        let object = key.map(describe)
        let kind: ArchiveError.Kind = switch error.kind {
        case .unreachable, .timedOut, .connectionLost: .unreachable
        case .accessDenied, .noSuchBucket, .credentials: .refused
        case .corrupt: .damaged
        case .noSuchKey: .missing
        case .invalidLocation, .invalidArgument, .preconditionFailed: .invalidRequest
        case .localFile: .io
        // A 5xx: the store is there but failing, which a caller retries like an outage.
        case .http: (error.status ?? 0) >= 500 ? .unreachable : .refused
        }
        return ArchiveError(kind, error.description, object: object, underlying: error)
    }

    /// Runs a client call about `key` and turns its failure into an ``ArchiveError``.
    func call<T: Sendable>(_ key: String?, _ body: @escaping @Sendable (S3Client) async throws(S3Error) -> T) throws(ArchiveError) -> T {
        let client = self.client
        do { return try blocking { () async throws(S3Error) -> T in try await body(client) } } catch {
            throw archiveError(error, key: key)
        }
    }
}

/// Carries a result from the task to the blocked thread (ordered by a semaphore).
private final class BlockingResult<T: Sendable, Failure: Error>: @unchecked Sendable {
    var result: Result<T, Failure>?
}
