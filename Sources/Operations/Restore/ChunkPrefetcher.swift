import Foundation
import NIOCore

/// Reads and checks (size, sha256) the chunks of a plan on helper threads, ahead of the
/// reader, so the replay parses chunk k while chunk k+1 is read and hashed, and neither
/// the reads nor the hashing run on an event loop.
///
/// A chunk up to ``wholeChunkLimit`` comes in memory; a larger one (`--chunk-size` goes
/// up to 1 GB, and one larger command makes a larger chunk) streams into a private spool
/// file as it is checked and is read back from there in pieces, so memory stays bounded
/// whatever the chunk size. (Only when no spool file can be made is it held whole, with a
/// note saying so.)
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
    private var ready: [Int: Result<CheckedBytes, ArchiveError>] = [:]
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
    private var checked: CheckedObjects?
    /// Where chunks too large for memory go: the check's spool, else one made when the
    /// first such chunk comes (in `spoolFolder`).
    private var spool: RestoreSpool?
    private let spoolFolder: String?
    /// Why no spool could be made, once that failed.
    private var spoolProblem: String?
    /// Notes for the report, not yet taken.
    private var notes: [String] = []

    /// Starts reading `chunks` in order with `helpers` threads (the store's
    /// ``ArchiveStore/parallelReads`` by default), at most `ahead` of them (at least one
    /// per helper) and `bytesAhead` bytes read or in flight beyond the reader. Chunks
    /// `checked` holds are not read.
    init(chunks: [ArchiveRecord.Chunk], store: any ArchiveStore, ahead: Int = 2, bytesAhead: Int = ChunkPrefetcher.defaultBytesAhead,
         helpers: Int? = nil, checked: CheckedObjects? = nil, spoolFolder: String? = nil) {
        self.chunks = chunks
        self.position = Dictionary(chunks.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.checked = checked
        self.spool = checked?.spool
        self.spoolFolder = spoolFolder ?? checked?.spoolFolder
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
    func take(_ chunk: ArchiveRecord.Chunk) throws(ArchiveError) -> CheckedBytes {
        condition.lock()
        if let at = position[chunk], at >= taken {
            // Skipped chunks are not needed any more.
            for skipped in taken..<at {
                if ready[skipped] != nil, case .success(.spooled(let bytes)) = release(skipped) { bytes.release() }
                checked?.drop(chunks[skipped])
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
        return try read(chunk)
    }

    /// The notes gathered since the last call (a chunk held whole for want of a spool).
    func takeNotes() -> [String] {
        condition.lock()
        defer { notes = []; condition.unlock() }
        return notes
    }

    /// Chunks larger than this are not held whole: they go through a spool file.
    static let wholeChunkLimit = 16 << 20

    /// Reads and checks one chunk: whole into memory when small, else into the spool.
    private func read(_ chunk: ArchiveRecord.Chunk) throws(ArchiveError) -> CheckedBytes {
        guard chunk.length > Self.wholeChunkLimit, let (spool, offset) = reserve(chunk) else {
            return .memory(try ArchiveObjectCheck.chunk(chunk, in: store))
        }
        let bytes = SpooledBytes(spool: spool, offset: offset, length: chunk.length)
        do {
            try ArchiveObjectCheck.chunk(chunk, in: store) { raw, at throws(ArchiveError) in try spool.write(raw, at: offset + at) }
        } catch {
            bytes.release()
            throw error
        }
        return .spooled(bytes)
    }

    /// Room for `chunk` in the spool, made at the first need; nil, with a note, when no
    /// spool file can be made or its file system has no room.
    private func reserve(_ chunk: ArchiveRecord.Chunk) -> (RestoreSpool, Int)? {
        condition.lock()
        defer { condition.unlock() }
        if spool == nil && spoolProblem == nil {
            // Made outside the lock (it touches the disk); another helper may have made
            // one meanwhile.
            condition.unlock()
            let made: Result<RestoreSpool, ArchiveError>
            do throws(ArchiveError) { made = .success(try RestoreSpool(in: spoolFolder)) } catch { made = .failure(error) }
            condition.lock()
            if spool == nil && spoolProblem == nil {
                switch made {
                case .success(let s): spool = s
                case .failure(let error): spoolProblem = error.message
                }
            }
        }
        let whole = "\(ArchiveObjectCheck.description(of: chunk, in: store)), \(Restore.megabytes(chunk.length)), is held in memory whole"
        guard let spool else {
            notes.append("\(spoolProblem ?? "no restore spool"): \(whole)")
            return nil
        }
        guard let offset = spool.reserve(chunk.length) else {
            notes.append("the restore spool in \(spool.folder) has no room left: \(whole)")
            return nil
        }
        return (spool, offset)
    }

    /// The default of `bytesAhead`: three of the collector's 4 MB chunks (cut a little
    /// past 4 MB) read or in flight, enough to hide a bucket's round trips, and with the
    /// check's kept bytes a restore from a bucket stays under 100 MB.
    static let defaultBytesAhead = 16 << 20

    /// Removes a read chunk from `ready`, and from what is held. Under the lock.
    @discardableResult
    private func release(_ at: Int) -> Result<CheckedBytes, ArchiveError>? {
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
        // A helper thread may hold this object a moment longer: not the spool with it.
        checked = nil
        spool = nil
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
            let result: Result<CheckedBytes, ArchiveError>
            do { result = .success(try read(chunk)) } catch { result = .failure(error) }
            condition.lock()
            if at >= taken {
                ready[at] = result
            } else {
                held -= 1
                heldBytes -= chunk.length
                if case .success(.spooled(let bytes)) = result { bytes.release() }
            }
            // Past a bad chunk nothing is needed: the writer stops there.
            if case .failure = result { failedAt = min(failedAt ?? at, at) }
            condition.broadcast()
        }
    }
}
