import Foundation
import NIOCore

/// Archive objects whose bytes the pre-write check already read and verified (size and
/// sha256), kept, up to a byte budget, for the write that follows, so it does not read
/// them a second time. Restoring into a server reads everything twice otherwise: once to
/// check it all before anything is written (a FLUSHALL included), once to send it; from
/// a bucket the second read is a second download.
///
/// What is kept: the base, when it fits, then the first chunks in plan order, as many as
/// fit in what is left: the write needs them first, and while it sends them the prefetcher
/// reads the rest. Each object is handed out once and dropped, so the memory goes down as
/// the write goes on. Thread-safe.
final class CheckedObjects: @unchecked Sendable {
    // @unchecked: `chunks` and `base` are used under `lock`.
    private let lock = NSLock()
    private var chunks: [ArchiveRecord.Chunk: ByteBuffer] = [:]
    private var base: ByteBuffer?
    /// The byte budget it was given.
    let budget: Int

    /// An empty cache for at most `budget` bytes (0: keep nothing).
    init(budget: Int) { self.budget = max(0, budget) }

    /// How many of `chunks`, from the first, fit in the budget after `used` bytes.
    func chunksThatFit(_ chunks: [ArchiveRecord.Chunk], after used: Int) -> Int {
        var total = used
        for (i, chunk) in chunks.enumerated() {
            total += chunk.length
            if total > budget { return i }
        }
        return chunks.count
    }

    /// Keeps a chunk's checked bytes.
    func keep(_ chunk: ArchiveRecord.Chunk, _ bytes: ByteBuffer) { lock.withLock { chunks[chunk] = bytes } }

    /// Keeps the base's checked bytes.
    func keepBase(_ bytes: ByteBuffer) { lock.withLock { base = bytes } }

    /// The chunk's checked bytes, once (nil: not kept, or already taken).
    func take(_ chunk: ArchiveRecord.Chunk) -> ByteBuffer? { lock.withLock { chunks.removeValue(forKey: chunk) } }

    /// True when the chunk's bytes are kept (so nobody needs to read it).
    func holds(_ chunk: ArchiveRecord.Chunk) -> Bool { lock.withLock { chunks[chunk] != nil } }

    /// The base's checked bytes, once.
    func takeBase() -> ByteBuffer? { lock.withLock { defer { base = nil }; return base } }

    /// Bytes held now.
    var bytesHeld: Int { lock.withLock { chunks.values.reduce(base?.readableBytes ?? 0) { $0 + $1.readableBytes } } }
}
