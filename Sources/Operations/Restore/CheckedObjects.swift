import Foundation
import NIOCore

/// Archive objects whose bytes the pre-write check already read and verified (size and
/// sha256), kept for the write that follows, so it does not read them a second time.
/// Restoring into a server reads everything twice otherwise: once to check it all before
/// anything is written (a FLUSHALL included), once to send it; from a bucket the second
/// read is a second download.
///
/// What is kept: in memory, up to a byte budget, the base when it fits, then the first
/// chunks in plan order (the write needs them first, and while it sends them the
/// prefetcher reads the rest); from a bucket, a base over the budget and every other
/// chunk in a private spool file (``RestoreSpool``) as far as the disk has room, so each
/// is downloaded once and none is held whole. Each
/// object is handed out once, so the memory goes down as the write goes on. Thread-safe.
final class CheckedObjects: @unchecked Sendable {
    // @unchecked: `chunks`, `base` and `notes` are used under `lock`.
    private let lock = NSLock()
    private var chunks: [ArchiveRecord.Chunk: CheckedBytes] = [:]
    private var base: CheckedBytes?
    private var noted: [String] = []
    /// The byte budget in memory it was given.
    let budget: Int
    /// Where chunks beyond the budget go (nil: nowhere, they are read again).
    let spool: RestoreSpool?
    /// Where a spool is made when the write needs one and this has none (nil: the
    /// system's temporary folder).
    let spoolFolder: String?

    /// An empty cache for at most `budget` bytes in memory (0: keep nothing there) and,
    /// with `spool`, as many more chunks as the spool has room for.
    init(budget: Int, spool: RestoreSpool? = nil, spoolFolder: String? = nil) {
        self.budget = max(0, budget)
        self.spool = spool
        self.spoolFolder = spoolFolder
    }

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
    func keep(_ chunk: ArchiveRecord.Chunk, _ bytes: ByteBuffer) { lock.withLock { chunks[chunk] = .memory(bytes) } }

    /// Keeps a chunk's checked bytes that are in the spool.
    func keep(_ chunk: ArchiveRecord.Chunk, spooled: SpooledBytes) { lock.withLock { chunks[chunk] = .spooled(spooled) } }

    /// Keeps the base's checked bytes (in memory, or in the spool).
    func keepBase(_ bytes: CheckedBytes) { lock.withLock { base = bytes } }

    /// The chunk's checked bytes, once (nil: not kept, or already taken).
    func take(_ chunk: ArchiveRecord.Chunk) -> CheckedBytes? { lock.withLock { chunks.removeValue(forKey: chunk) } }

    /// Drops a chunk's kept bytes unread (a chunk the write skipped).
    func drop(_ chunk: ArchiveRecord.Chunk) {
        if case .spooled(let bytes) = take(chunk) { bytes.release() }
    }

    /// True when the chunk's bytes are kept (so nobody needs to read it).
    func holds(_ chunk: ArchiveRecord.Chunk) -> Bool { lock.withLock { chunks[chunk] != nil } }

    /// True when the chunk's bytes are kept in the spool.
    func holdsSpooled(_ chunk: ArchiveRecord.Chunk) -> Bool {
        lock.withLock { if case .spooled = chunks[chunk] { true } else { false } }
    }

    /// The base's checked bytes, once.
    func takeBase() -> CheckedBytes? { lock.withLock { defer { base = nil }; return base } }

    /// Bytes held in memory now.
    var bytesHeld: Int {
        lock.withLock {
            (Array(chunks.values) + [base].compactMap { $0 }).reduce(0) { total, bytes in
                if case .memory(let b) = bytes { total + b.readableBytes } else { total }
            }
        }
    }

    /// Bytes held in the spool now.
    var bytesSpooled: Int {
        lock.withLock {
            (Array(chunks.values) + [base].compactMap { $0 }).reduce(0) { total, bytes in
                if case .spooled(let s) = bytes { total + s.length } else { total }
            }
        }
    }

    /// Adds a note for the report (why something is read twice, say).
    func note(_ text: String) { lock.withLock { noted.append(text) } }

    /// The notes so far.
    var notes: [String] { lock.withLock { noted } }
}
