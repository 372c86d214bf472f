import Foundation
import NIOCore

extension ArchiveObjectCheck {
    /// Checks chunks against their records with as many reads in flight as the store
    /// wants (``ArchiveStore/parallelReads``: a few for a bucket, whose round trips they
    /// hide) or as there are cores (up to 4), but no more than `bytesInFlight` bytes of chunks being read
    /// at once (always at least one chunk), so memory does not grow with the chunk size
    /// times the readers. Throws the failure of the earliest bad chunk found; stops
    /// starting reads once one failed or `stop` says so. `checked` hears each chunk's
    /// length once it passed, and `keep` its index and checked bytes (from any of the
    /// readers, one at a time).
    public static func chunks(_ chunks: [ArchiveRecord.Chunk], in store: any ArchiveStore,
                              bytesInFlight: Int = 16 << 20,
                              stop: @escaping @Sendable () -> Bool = { false },
                              keep: ((Int, ByteBuffer) -> Void)? = nil,
                              checked: ((Int) -> Void)? = nil) throws(ArchiveError) {
        // Checking is hashing as much as reading: even a folder gets a reader per core
        // (up to 4), so the check that holds back every write ends sooner.
        let width = min(16, max(1, store.parallelReads, min(4, ProcessInfo.processInfo.activeProcessorCount)), max(1, chunks.count))
        let work = ParallelCheck(chunks: chunks, bytesInFlight: bytesInFlight, keep: keep, checked: checked)
        DispatchQueue.concurrentPerform(iterations: width) { _ in
            while let at = work.claim(stop: stop) {
                do throws(ArchiveError) {
                    work.passed(at, try chunk(chunks[at], in: store))
                } catch {
                    work.failed(at, error)
                }
            }
        }
        if let failure = work.failure { throw failure.error }
    }
}

/// The shared state of ``ArchiveObjectCheck/chunks(_:in:bytesInFlight:stop:keep:checked:)``'s readers.
private final class ParallelCheck: @unchecked Sendable {
    // @unchecked: every field is used under `condition`.
    private let condition = NSCondition()
    private let chunks: [ArchiveRecord.Chunk]
    private let bytesInFlight: Int
    private let keep: ((Int, ByteBuffer) -> Void)?
    private let checked: ((Int) -> Void)?
    private var next = 0
    /// Bytes of the chunks being read now.
    private var reading = 0
    private(set) var failure: (at: Int, error: ArchiveError)?

    init(chunks: [ArchiveRecord.Chunk], bytesInFlight: Int, keep: ((Int, ByteBuffer) -> Void)?, checked: ((Int) -> Void)?) {
        self.chunks = chunks
        self.bytesInFlight = max(1, bytesInFlight)
        self.keep = keep
        self.checked = checked
    }

    /// The next chunk to check, once the bytes in flight leave room for it; nil when
    /// done, failed or stopped.
    func claim(stop: () -> Bool) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard failure == nil, next < chunks.count, !stop() else { return nil }
            let length = chunks[next].length
            if reading == 0 || reading + length <= bytesInFlight {
                reading += length
                next += 1
                return next - 1
            }
            // A reader finishing signals; the timeout only re-checks `stop`.
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
    }

    func passed(_ at: Int, _ bytes: ByteBuffer) {
        condition.lock()
        defer { condition.unlock() }
        reading -= chunks[at].length
        keep?(at, bytes)
        checked?(chunks[at].length)
        condition.broadcast()
    }

    func failed(_ at: Int, _ error: ArchiveError) {
        condition.lock()
        defer { condition.unlock() }
        reading -= chunks[at].length
        if failure == nil || at < failure!.at { failure = (at, error) }
        condition.broadcast()
    }
}
