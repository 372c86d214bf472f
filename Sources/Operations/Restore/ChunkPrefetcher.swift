import Foundation
import NIOCore

/// Reads and checks (size, sha256) the chunks of a plan on a helper thread, ahead of the
/// reader, so the replay parses chunk k while chunk k+1 is read and hashed, and neither
/// the reads nor the hashing run on an event loop.
///
/// Hashing is about as costly as writing; done in turn they added up. A chunk whose check
/// fails is reported only when the reader asks for it, so nothing before it is held back
/// and nothing past it is used, as when reading in turn.
final class ChunkPrefetcher: @unchecked Sendable {
    // @unchecked: every field below is guarded by `condition`.
    private let chunks: [ArchiveRecord.Chunk]
    /// Where each chunk stands in `chunks`, so `take` knows in one look whether the helper
    /// is still to reach it.
    private let position: [ArchiveRecord.Chunk: Int]
    private let store: any ArchiveStore
    private let condition = NSCondition()
    /// Index in `chunks` of the next chunk the helper reads.
    private var nextToRead = 0
    /// Read chunks not yet taken, in order, with their bytes or why they failed.
    private var ready: [(chunk: ArchiveRecord.Chunk, result: Result<ByteBuffer, ArchiveError>)] = []
    private var stopped = false
    private var helperDone = false
    /// How many read chunks may wait: their memory is what the prefetch costs.
    private let ahead: Int

    /// Starts reading `chunks` in order, at most `ahead` of them waiting to be taken.
    init(chunks: [ArchiveRecord.Chunk], store: any ArchiveStore, ahead: Int = 2) {
        self.chunks = chunks
        self.position = Dictionary(chunks.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.ahead = max(1, ahead)
        let thread = Thread { [self] in readAhead() }
        thread.name = "redkeep-chunk-prefetch"
        thread.start()
    }

    /// The bytes of `chunk`, checked. Chunks the reader skipped are dropped on the way. A
    /// chunk the helper did not read (out of order) is read here.
    func take(_ chunk: ArchiveRecord.Chunk) throws(ArchiveError) -> ByteBuffer {
        condition.lock()
        while true {
            if let first = ready.first {
                ready.removeFirst()
                condition.signal()
                if first.chunk == chunk {
                    condition.unlock()
                    return try first.result.get()
                }
                continue
            }
            guard !helperDone, let at = position[chunk], at >= nextToRead else { break }
            condition.wait()
        }
        condition.unlock()
        return try ArchiveObjectCheck.chunk(chunk, in: store)
    }

    /// Stops the helper and frees what it read and nobody took. Call once, at the end.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !helperDone { condition.wait() }
        ready = []
        condition.unlock()
    }

    private func readAhead() {
        condition.lock()
        defer {
            helperDone = true
            condition.broadcast()
            condition.unlock()
        }
        while !stopped && nextToRead < chunks.count {
            if ready.count >= ahead {
                condition.wait()
                continue
            }
            let chunk = chunks[nextToRead]
            condition.unlock()
            let result: Result<ByteBuffer, ArchiveError>
            do { result = .success(try ArchiveObjectCheck.chunk(chunk, in: store)) } catch { result = .failure(error) }
            condition.lock()
            nextToRead += 1
            ready.append((chunk, result))
            condition.broadcast()
            // Past a bad chunk nothing is needed: the writer stops there.
            if case .failure = result { return }
        }
    }
}
