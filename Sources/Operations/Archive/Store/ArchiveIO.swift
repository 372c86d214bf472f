import Foundation
import NIOPosix

/// Runs blocking archive work (file reads, object-store calls, SHA-256 over chunks) on
/// NIO's thread pool, so async callers never block an event loop or the cooperative
/// pool with it.
public enum ArchiveIO {
    /// Runs `body` on the thread pool and returns its result.
    public static func run<T: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            NIOThreadPool.singleton.submit { state in
                guard case .active = state else {
                    // The singleton pool is never shut down; run here rather than drop it.
                    continuation.resume(returning: Result { () throws(Failure) in try body() })
                    return
                }
                continuation.resume(returning: Result { () throws(Failure) in try body() })
            }
        }
        return try result.get()
    }
}

/// Opens the store an archive location names.
public enum ArchiveStores {
    /// `DIR` (a local folder) or `s3://BUCKET/PREFIX` (an S3-compatible bucket, reached
    /// at `s3Endpoint` or where the environment's AWS_* variables and profiles say).
    public static func open(_ location: String, s3Endpoint: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ArchiveError) -> any ArchiveStore {
        guard !location.isEmpty else { throw ArchiveError(.invalidRequest, "an archive location is empty: give a folder or s3://BUCKET/PREFIX") }
        if location.lowercased().hasPrefix("s3://") {
            return try S3ArchiveStore.open(location, endpoint: s3Endpoint, environment: environment)
        }
        return LocalArchiveStore(root: location)
    }
}
