import Foundation

extension ConnectionReplay {
    /// The stream's first batch, read on the thread pool while the base's last replies
    /// come back (started by the base loader once it has nothing more to send), so the
    /// target does not wait for it once they are in. Reading only: nothing is sent until
    /// the stream takes it, after the base was acknowledged. Thread-safe.
    final class FirstBatch: @unchecked Sendable {
        // @unchecked: `task` is used under `lock`.
        private let lock = NSLock()
        private var task: Task<Result<Batch, RestoreError>, Never>?

        /// Starts reading it (once; later calls do nothing).
        func start(_ fill: @escaping @Sendable () throws(RestoreError) -> Batch) {
            lock.withLock {
                guard task == nil else { return }
                task = Task {
                    do throws(RestoreError) { return .success(try await ArchiveIO.run(fill)) } catch { return .failure(error) }
                }
            }
        }

        /// The batch, or nil when it was never started (the stream then reads it itself).
        /// Throws what reading it threw.
        func take() async throws(RestoreError) -> Batch? {
            guard let task = lock.withLock({ defer { self.task = nil }; return self.task }) else { return nil }
            return try await task.value.get()
        }

        /// Waits for a started read to end and drops it (the replay is leaving early), so
        /// no read of the archive outlives the restore.
        func discard() async {
            _ = try? await take()
        }
    }
}
