import Foundation

/// Reads and checks (size, sha256) the chunks of a plan on a helper thread, one chunk
/// ahead of the writer, so that `--write-aof` hashes chunk k+1 while it writes chunk k.
///
/// Hashing is about as costly as writing; done in turn they added up. A chunk whose check
/// fails is reported only when the writer asks for it, so nothing before it is held back
/// and nothing past it is written, as when reading in turn.
final class ChunkPrefetcher: @unchecked Sendable {
    // @unchecked: every field below is guarded by `condition`.
    private let chunks: [ArchiveRecord.Chunk]
    /// Where each chunk stands in `chunks`, so `take` knows in one look whether the helper
    /// is still to reach it.
    private let position: [ArchiveRecord.Chunk: Int]
    private let layout: ArchiveLayout
    private let condition = NSCondition()
    /// Index in `chunks` of the next chunk the helper reads.
    private var nextToRead = 0
    /// Read chunks not yet taken, in order, with their bytes or why they failed.
    private var ready: [(chunk: ArchiveRecord.Chunk, result: Result<UnsafeMutableRawBufferPointer, RestoreError>)] = []
    private var stopped = false
    private var helperDone = false
    /// How many read chunks may wait: their memory is what the prefetch costs.
    private let ahead = 1

    /// Starts reading `chunks` in order.
    init(chunks: [ArchiveRecord.Chunk], layout: ArchiveLayout) {
        self.chunks = chunks
        self.position = Dictionary(chunks.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.layout = layout
        let thread = Thread { [self] in readAhead() }
        thread.name = "redkeep-chunk-prefetch"
        thread.start()
    }

    /// The bytes of `chunk`, checked; the caller deallocates them. Chunks the writer
    /// skipped (it read them entry by entry) are dropped on the way. A chunk the helper
    /// did not read (out of order) is read here.
    func take(_ chunk: ArchiveRecord.Chunk) throws(RestoreError) -> UnsafeMutableRawBufferPointer {
        condition.lock()
        while true {
            if let first = ready.first {
                ready.removeFirst()
                condition.signal()
                if first.chunk == chunk {
                    condition.unlock()
                    return try first.result.get()
                }
                if case .success(let bytes) = first.result { bytes.deallocate() }
                continue
            }
            guard !helperDone, let at = position[chunk], at >= nextToRead else { break }
            condition.wait()
        }
        condition.unlock()
        return try AOFFolderWriter.readChunk(chunk, layout: layout)
    }

    /// Stops the helper and frees what it read and nobody took. Call once, at the end.
    func finish() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !helperDone { condition.wait() }
        for item in ready { if case .success(let bytes) = item.result { bytes.deallocate() } }
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
            let result: Result<UnsafeMutableRawBufferPointer, RestoreError>
            do { result = .success(try AOFFolderWriter.readChunk(chunk, layout: layout)) } catch { result = .failure(error) }
            condition.lock()
            nextToRead += 1
            ready.append((chunk, result))
            condition.broadcast()
            // Past a bad chunk nothing is needed: the writer stops there.
            if case .failure = result { return }
        }
    }
}
