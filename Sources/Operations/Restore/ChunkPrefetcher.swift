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
    /// How many chunks may be read and not yet taken: their memory is what the prefetch costs.
    private let ahead: Int

    /// Starts reading `chunks` in order with `helpers` threads (the store's
    /// ``ArchiveStore/parallelReads`` by default), at most `ahead` of them (at least one
    /// per helper) read or in flight beyond the reader.
    init(chunks: [ArchiveRecord.Chunk], store: any ArchiveStore, ahead: Int = 2, helpers: Int? = nil) {
        self.chunks = chunks
        self.position = Dictionary(chunks.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        let helpers = min(16, max(1, helpers ?? store.parallelReads))
        self.ahead = max(1, ahead, helpers)
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
            for skipped in taken..<at { ready[skipped] = nil }
            taken = at
            condition.broadcast()
            while true {
                if let result = ready.removeValue(forKey: at) {
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
        return try ArchiveObjectCheck.chunk(chunk, in: store)
    }

    /// Stops the helpers and frees what they read and nobody took. Call once, at the end.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while helpersRunning > 0 { condition.wait() }
        ready = [:]
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
            if nextToRead - taken >= ahead {
                condition.wait()
                continue
            }
            let at = nextToRead
            nextToRead += 1
            let chunk = chunks[at]
            condition.unlock()
            let result: Result<ByteBuffer, ArchiveError>
            do { result = .success(try ArchiveObjectCheck.chunk(chunk, in: store)) } catch { result = .failure(error) }
            condition.lock()
            if at >= taken { ready[at] = result }
            // Past a bad chunk nothing is needed: the writer stops there.
            if case .failure = result { failedAt = min(failedAt ?? at, at) }
            condition.broadcast()
        }
    }
}
