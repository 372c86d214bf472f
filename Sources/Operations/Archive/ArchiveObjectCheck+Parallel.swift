import Foundation

extension ArchiveObjectCheck {
    /// Checks chunks against their records with as many reads in flight as the store
    /// wants (``ArchiveStore/parallelReads``: one for a folder, a few for a bucket, whose
    /// round trips they hide). Throws the failure of the earliest bad chunk found; stops
    /// starting reads once one failed or `stop` says so. `checked` hears each chunk's
    /// length once it passed (from any of the readers, one at a time).
    public static func chunks(_ chunks: [ArchiveRecord.Chunk], in store: any ArchiveStore,
                              stop: @escaping @Sendable () -> Bool = { false },
                              checked: ((Int) -> Void)? = nil) throws(ArchiveError) {
        let width = min(16, max(1, store.parallelReads), max(1, chunks.count))
        let work = ParallelCheck(chunks: chunks, checked: checked)
        DispatchQueue.concurrentPerform(iterations: width) { _ in
            while let at = work.claim(stopped: stop()) {
                do throws(ArchiveError) {
                    _ = try chunk(chunks[at], in: store)
                    work.passed(at)
                } catch {
                    work.failed(at, error)
                }
            }
        }
        if let failure = work.failure { throw failure.error }
    }
}

/// The shared state of ``ArchiveObjectCheck/chunks(_:in:stop:checked:)``'s readers.
private final class ParallelCheck: @unchecked Sendable {
    // @unchecked: every field is used under `lock`.
    private let lock = NSLock()
    private let chunks: [ArchiveRecord.Chunk]
    private let checked: ((Int) -> Void)?
    private var next = 0
    private(set) var failure: (at: Int, error: ArchiveError)?

    init(chunks: [ArchiveRecord.Chunk], checked: ((Int) -> Void)?) {
        self.chunks = chunks
        self.checked = checked
    }

    /// The next chunk to check; nil when done, failed or stopped.
    func claim(stopped: Bool) -> Int? {
        lock.withLock {
            guard failure == nil, next < chunks.count, !stopped else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func passed(_ at: Int) { lock.withLock { checked?(chunks[at].length) } }

    func failed(_ at: Int, _ error: ArchiveError) {
        lock.withLock { if failure == nil || at < failure!.at { failure = (at, error) } }
    }
}
