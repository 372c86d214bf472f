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
        let lock = NSLock()
        try forEach(count: chunks.count, in: store, bytesInFlight: bytesInFlight, stop: stop, held: { chunks[$0].length }, check: { at throws(ArchiveError) in
            let bytes = try chunk(chunks[at], in: store)
            if let keep { lock.withLock { keep(at, bytes) } }
        }, checked: { at in checked?(chunks[at].length) })
    }

    /// Runs `check` (which reads and checks object `at`, throwing when it fails) for each
    /// of `count` objects, with `width` readers (by default as ``chunks(_:in:bytesInFlight:stop:keep:checked:)``
    /// chooses) and no more than `bytesInFlight` bytes held by the checks running at once
    /// (`held(at)`: the object's length when it is read whole, a piece when it is
    /// streamed). Throws the failure of the lowest `at`; once `stop` says so, nothing more
    /// starts and the failures of the checks it cut short are not errors. `checked` hears
    /// each `at` that passed (one at a time).
    static func forEach(count: Int, in store: any ArchiveStore, width: Int? = nil,
                        bytesInFlight: Int = 16 << 20,
                        stop: @escaping @Sendable () -> Bool = { false },
                        held: (Int) -> Int,
                        check: (Int) throws(ArchiveError) -> Void,
                        checked: ((Int) -> Void)? = nil) throws(ArchiveError) {
        // Checking is hashing as much as reading: even a folder gets a reader per core
        // (up to 4), so the check that holds back every write ends sooner.
        let width = min(16, max(1, width ?? max(store.parallelReads, min(4, ProcessInfo.processInfo.activeProcessorCount))), max(1, count))
        let work = ParallelCheck(costs: (0..<count).map(held), bytesInFlight: bytesInFlight,
                                 checked: { at in checked?(at) })
        withoutActuallyEscaping(check) { check in
            let readers = Readers(check)
            // Threads may outlive the wait by a moment: they must not hold `check` then.
            defer { readers.check = nil }
            let read: @Sendable () -> Void = {
                while let at = work.claim(stop: stop) {
                    do throws(ArchiveError) {
                        try readers.check!(at)
                        work.passed(at)
                    } catch {
                        work.failed(at, error)
                    }
                }
            }
            // Threads of their own, not concurrentPerform: its width is the core count, and
            // a reader blocked on a download would hold a core's slot doing nothing.
            let done = DispatchGroup()
            for n in 1..<width {
                done.enter()
                let thread = Thread {
                    read()
                    done.leave()
                }
                thread.name = "redkeep-check-\(n)"
                thread.start()
            }
            read()
            done.wait()
        }
        if let failure = work.failure, !stop() { throw failure.error }
    }
}

/// The caller's check, shared by the readers of ``ArchiveObjectCheck/forEach(count:in:width:bytesInFlight:stop:held:check:checked:)``,
/// which returns only once they are all done (and clears it then).
private final class Readers: @unchecked Sendable {
    var check: ((Int) throws(ArchiveError) -> Void)?
    init(_ check: @escaping (Int) throws(ArchiveError) -> Void) { self.check = check }
}

/// The shared state of ``ArchiveObjectCheck/forEach(count:in:width:bytesInFlight:stop:held:check:checked:)``'s readers.
private final class ParallelCheck: @unchecked Sendable {
    // @unchecked: every field is used under `condition`.
    private let condition = NSCondition()
    private let costs: [Int]
    private let bytesInFlight: Int
    private let checked: (Int) -> Void
    private var next = 0
    /// Bytes held by the checks running now.
    private var reading = 0
    private(set) var failure: (at: Int, error: ArchiveError)?

    init(costs: [Int], bytesInFlight: Int, checked: @escaping (Int) -> Void) {
        self.costs = costs
        self.bytesInFlight = max(1, bytesInFlight)
        self.checked = checked
    }

    /// The next chunk to check, once the bytes in flight leave room for it; nil when
    /// done, failed or stopped.
    func claim(stop: () -> Bool) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard failure == nil, next < costs.count, !stop() else { return nil }
            let cost = costs[next]
            if reading == 0 || reading + cost <= bytesInFlight {
                reading += cost
                next += 1
                return next - 1
            }
            // A reader finishing signals; the timeout only re-checks `stop`.
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1))
        }
    }

    func passed(_ at: Int) {
        condition.lock()
        defer { condition.unlock() }
        reading -= costs[at]
        checked(at)
        condition.broadcast()
    }

    func failed(_ at: Int, _ error: ArchiveError) {
        condition.lock()
        defer { condition.unlock() }
        reading -= costs[at]
        if failure == nil || at < failure!.at { failure = (at, error) }
        condition.broadcast()
    }
}
