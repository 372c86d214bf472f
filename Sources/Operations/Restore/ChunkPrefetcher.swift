import Foundation
import NIOCore

/// Reads and checks (size, sha256) the chunks of a plan on helper threads, ahead of the
/// reader, so the replay parses chunk k while chunk k+1 is read and hashed, and neither
/// the reads nor the hashing run on an event loop.
///
/// Hashing is about as costly as writing; done in turn they added up. A store that wants
/// several reads in flight (object storage, see ``ArchiveStore/parallelReads``) gets as
/// many helpers, each taking the next chunk in order; the reader still gets the chunks in
/// order. A chunk whose check fails is reported only when the reader asks for it, so
/// nothing before it is held back and nothing past it is used, as when reading in turn.
final class ChunkPrefetcher: @unchecked Sendable {
    // @unchecked: every field below is guarded by `condition`.
    private let chunks: [ArchiveRecord.Chunk]
    /// Where each chunk stands in `chunks`, so `take` knows in one look whether the
    /// helpers are still to reach it.
    private let position: [ArchiveRecord.Chunk: Int]
    private let store: any ArchiveStore
    private let condition = NSCondition()
    /// Index in `chunks` of the next chunk a helper starts reading.
    private var nextToRead = 0
    /// Index in `chunks` below which the reader took or skipped everything.
    private var taken = 0
    /// Read chunks not yet taken, by index, with their bytes or why they failed.
    private var ready: [Int: Result<ByteBuffer, ArchiveError>] = [:]
    /// The first chunk whose read failed: nothing past it is started.
    private var failedAt: Int?
    private var stopped = false
    private var helpersRunning: Int
    /// Chunks read (in `ready`) or being read.
    private var held = 0
    /// Their bytes.
    private var heldBytes = 0
    /// How many chunks may be read or in flight and not yet taken: their memory is what
    /// the prefetch costs.
    private let ahead: Int
    /// Their bytes at most (one chunk is always allowed, whatever its size), so the
    /// memory does not grow with the chunk size times the helpers.
    private let bytesAhead: Int
    /// Chunks the pre-write check kept: handed out from there, never read again.
    private let checked: CheckedObjects?

    /// Starts reading `chunks` in order with `helpers` threads (the store's
    /// ``ArchiveStore/parallelReads`` by default), at most `ahead` of them (at least one
    /// per helper) and `bytesAhead` bytes read or in flight beyond the reader. Chunks
    /// `checked` holds are not read.
    init(chunks: [ArchiveRecord.Chunk], store: any ArchiveStore, ahead: Int = 2, bytesAhead: Int = ChunkPrefetcher.defaultBytesAhead,
         helpers: Int? = nil, checked: CheckedObjects? = nil) {
        self.chunks = chunks
        self.position = Dictionary(chunks.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.checked = checked
        let helpers = min(16, max(1, helpers ?? store.parallelReads))
        self.ahead = max(1, ahead, helpers)
        self.bytesAhead = max(1, bytesAhead)
        self.helpersRunning = helpers
        for n in 0..<helpers {
            let thread = Thread { [self] in readAhead() }
            thread.name = "redkeep-chunk-prefetch-\(n)"
            thread.start()
        }
    }

    /// The bytes of `chunk`, checked. Chunks the reader skipped are dropped on the way. A
    /// chunk the helpers did not read (out of order) is read here.
    func take(_ chunk: ArchiveRecord.Chunk) throws(ArchiveError) -> ByteBuffer {
        condition.lock()
        if let at = position[chunk], at >= taken {
            // Skipped chunks are not needed any more.
            for skipped in taken..<at {
                if ready[skipped] != nil { release(skipped) }
                _ = checked?.take(chunks[skipped])
            }
            taken = at
            condition.broadcast()
            if let kept = checked?.take(chunk) {
                taken = at + 1
                condition.broadcast()
                condition.unlock()
                return kept
            }
            while true {
                if ready[at] != nil, let result = release(at) {
                    taken = at + 1
                    condition.broadcast()
                    condition.unlock()
                    return try result.get()
                }
                // In flight, or still to be started by a helper: wait for it.
                let coming = at < nextToRead || (helpersRunning > 0 && failedAt == nil && !stopped)
                guard coming else { break }
                condition.wait()
            }
        }
        condition.unlock()
        if let kept = checked?.take(chunk) { return kept }
        return try ArchiveObjectCheck.chunk(chunk, in: store)
    }

    /// The default of `bytesAhead`: three of the collector's 4 MB chunks (cut a little
    /// past 4 MB) read or in flight, enough to hide a bucket's round trips, and with the
    /// check's kept bytes a restore from a bucket stays under 100 MB.
    static let defaultBytesAhead = 16 << 20

    /// Removes a read chunk from `ready`, and from what is held. Under the lock.
    @discardableResult
    private func release(_ at: Int) -> Result<ByteBuffer, ArchiveError>? {
        guard let result = ready.removeValue(forKey: at) else { return nil }
        held -= 1
        heldBytes -= chunks[at].length
        return result
    }

    /// Stops the helpers and frees what they read and nobody took. Call once, at the end.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while helpersRunning > 0 { condition.wait() }
        ready = [:]
        held = 0
        heldBytes = 0
        condition.unlock()
    }

    private func readAhead() {
        condition.lock()
        defer {
            helpersRunning -= 1
            condition.broadcast()
            condition.unlock()
        }
        while !stopped && nextToRead < chunks.count && failedAt == nil {
            // Chunks the reader is past, or that the check kept, are not read.
            if nextToRead < taken { nextToRead = taken; continue }
            let chunk = chunks[nextToRead]
            if let checked, checked.holds(chunk) { nextToRead += 1; continue }
            if held >= ahead || (held > 0 && heldBytes + chunk.length > bytesAhead) {
                condition.wait()
                continue
            }
            let at = nextToRead
            nextToRead += 1
            held += 1
            heldBytes += chunk.length
            condition.unlock()
            let result: Result<ByteBuffer, ArchiveError>
            do { result = .success(try ArchiveObjectCheck.chunk(chunk, in: store)) } catch { result = .failure(error) }
            condition.lock()
            if at >= taken {
                ready[at] = result
            } else {
                held -= 1
                heldBytes -= chunk.length
            }
            // Past a bad chunk nothing is needed: the writer stops there.
            if case .failure = result { failedAt = min(failedAt ?? at, at) }
            condition.broadcast()
        }
    }
}
