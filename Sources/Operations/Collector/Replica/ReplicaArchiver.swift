import Foundation
import NIOCore
import RESP
#if canImport(Glibc)
import Glibc
#endif

/// The replica collector's archive work (see docs/archive.md, "From the replication
/// stream"): a full sync's RDB becomes a generation's base, each link session a stream
/// whose chunks hold the received write commands with `#TS` lines stamped at receipt.
/// Blocking I/O, so it runs on the collector's own thread; nothing else touches it.
///
/// A stream record names its history (`replication:<replid>`) and its first byte's
/// replication offset (`sourceSeq`); a chunk never ends inside MULTI/EXEC, so the
/// replication offset up to which everything is archived (``archived``) is always a
/// place a `PSYNC` can continue from.
final class ReplicaArchiver: @unchecked Sendable {
    /// A place in a master's replication history.
    struct Position: Sendable, Equatable {
        var replicationId: String
        var offset: Int
    }

    /// A received piece of a chunk: a `#TS` line or a write command.
    private struct Entry {
        var bytes: ByteBuffer
        var timestamp: Int64?
        /// The replication offset just after it.
        var replicationEnd: Int
    }

    /// A full sync whose RDB is being received into a temporary file.
    private struct FullSync {
        var position: Position
        var at: Double
        var descriptor: Int32
        var path: String
        var size = 0
    }

    static let sourcePrefix = "replication:"

    let store: any ArchiveStore
    let writer: any ArchiveIndexWriting
    let master: String
    let chunkSize: Int
    private var nextStream: Int
    private var nextGeneration: Int
    /// The stream of the current link session and its archived size.
    private(set) var stream: Int?
    private var streamSize = 0
    /// Everything before this place is archived (nil: nothing yet, a full sync is due).
    private(set) var archived: Position?
    /// The replication offset after the last message received.
    private(set) var received = 0
    private var pending: [Entry] = []
    private var pendingBytes = 0
    /// Where the open MULTI starts: pending's index and the replication offset.
    private var transactionStart: (index: Int, offset: Int)?
    private var lastStamp: Int64?
    /// When the oldest message not yet archived arrived.
    private var oldestPending: Double?
    private var fullSync: FullSync?
    private var lastProgress: Double
    /// Caps the archive writes (`--rate`); a capped archive holds the link back (see
    /// ``ReplicaFlow``), so the master buffers, not the collector.
    private var limiter: RateLimiter
    /// Counters of this run.
    private(set) var chunksCopied = 0
    private(set) var bytesCopied = 0
    private(set) var generationsCopied = 0
    private(set) var lastCopy: Double?

    /// Opens (or creates) the archive and finds where the last run left off: the history
    /// and offset of its last stream (``archived``), or nil when a full sync is due.
    init(store: any ArchiveStore, descriptor: ArchiveDescriptor, master: String, chunkSize: Int, rate: Int?, now: Double) throws(CollectorError) {
        self.store = store
        self.master = master
        self.chunkSize = max(1, chunkSize)
        limiter = RateLimiter(bytesPerSecond: rate)
        lastProgress = now
        do { writer = try store.openIndexWriter(creating: descriptor) } catch { throw CollectorError(error) }
        let index: ArchiveIndex
        do { index = try ArchiveIndex.read(store) } catch { throw CollectorError(error) }
        if let folder = index.descriptor.aofDirectory {
            throw CollectorError(.invalidRequest, "the archive \(store.location) collects the AOF files in \(folder) (\(index.descriptor.source)), not a replication stream: use one archive per source")
        }
        nextStream = (index.streams.map(\.stream).max() ?? 0) + 1
        nextGeneration = (index.generations.map(\.gen).max() ?? 0) + 1
        guard let last = index.streams.last else { return }
        guard last.sourceFile.hasPrefix(Self.sourcePrefix) else {
            throw CollectorError(.invalidRequest, "the archive \(store.location) holds stream \(last.stream) of \(last.sourceFile), not of a replication stream: use one archive per source")
        }
        let copied = index.copiedBytes(of: last.stream)
        if index.endSize(of: last.stream) == nil {
            try append(.streamEnd(.init(stream: last.stream, size: copied, at: now)))
        }
        lastProgress = index.chunks(of: last.stream).last?.copiedAt ?? last.openedBy
        // A gap after the last stream: its history was already given up (a full sync was due).
        let streamAt = index.records.lastIndex(of: .stream(last)) ?? 0
        if index.records[streamAt...].contains(where: { if case .gap(let g) = $0 { g.stream == nil } else { false } }) { return }
        let replicated = try Self.replicationBytes(of: last.stream, upTo: copied, index: index, store: store)
        archived = Position(replicationId: String(last.sourceFile.dropFirst(Self.sourcePrefix.count)),
                            offset: Int(last.sourceSeq) + replicated)
        received = archived!.offset
    }

    // MARK: Events

    /// Takes a batch of link events. Chunks are written as they fill; ``flush(now:)``
    /// writes the rest.
    func handle(_ events: [ReplicaEvent], now: Double) throws(CollectorError) {
        for event in events {
            switch event {
            case .fullResync(let id, let offset): try beginFullSync(Position(replicationId: id, offset: offset), now: now)
            case .continued(let newId): try continued(newReplicationId: newId, now: now)
            case .rdbStart: break
            case .rdbBytes(let bytes): try receiveRDB(bytes)
            case .rdbEnd: try finishFullSync(now: now)
            case .command(let command): try receive(command, now: now)
            }
        }
        if committableBytes >= chunkSize { try flush(now: now) }
    }

    private func beginFullSync(_ position: Position, now: Double) throws(CollectorError) {
        try endStream(now: now)
        if let archived {
            try append(.gap(.init(stream: nil, offset: nil, from: lastProgress, to: now,
                                  reason: "\(master) could not continue replication \(archived.replicationId) at offset \(archived.offset) (its backlog no longer holds it, or it has another history): a full sync made a new base at \(position.replicationId) offset \(position.offset); writes in between are not archived")))
            self.archived = nil
        }
        let path = NSTemporaryDirectory() + "/redkeep-replica-\(getpid())-\(UInt32.random(in: 0 ... .max)).rdb"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CollectorError("cannot create \(path) for the RDB of a full sync from \(master): \(String(cString: strerror(errno)))") }
        fullSync = FullSync(position: position, at: now, descriptor: fd, path: path)
    }

    private func receiveRDB(_ bytes: ByteBuffer) throws(CollectorError) {
        guard var sync = fullSync else { throw CollectorError("\(master) sent RDB bytes outside a full sync") }
        let failure: String? = bytes.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(sync.descriptor, raw.baseAddress! + done, raw.count - done, off_t(sync.size + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return String(cString: strerror(errno)) }
                done += n
            }
            return nil
        }
        if let failure { throw CollectorError("cannot write the RDB of a full sync from \(master) to \(sync.path) at byte \(sync.size): \(failure)") }
        sync.size += bytes.readableBytes
        fullSync = sync
    }

    /// The RDB is whole: it becomes the base of a new generation, and a new stream starts
    /// at the full sync's offset.
    private func finishFullSync(now: Double) throws(CollectorError) {
        guard let sync = fullSync else { throw CollectorError("\(master) ended an RDB outside a full sync") }
        defer { discardFullSync() }
        var magic = [UInt8](repeating: 0, count: 5)
        guard sync.size >= 9, pread(sync.descriptor, &magic, 5, 0) == 5, magic == Array("REDIS".utf8) else {
            throw CollectorError("the full sync from \(master) sent \(sync.size) bytes that are not an RDB (no REDIS header)")
        }
        let gen = nextGeneration
        let key = ArchiveLayout.basePath(gen: gen, format: .rdb)
        let written: ArchiveObjectInfo
        do {
            written = try store.write(key, replacing: true) { writer throws(ArchiveError) in
                var block = [UInt8](repeating: 0, count: 1 << 20)
                var position = 0
                var trailer = RDBStreamingChecksum()
                while position < sync.size {
                    let got = block.withUnsafeMutableBytes { pread(sync.descriptor, $0.baseAddress, min($0.count, sync.size - position), off_t(position)) }
                    if got < 0 && errno == EINTR { continue }
                    guard got > 0 else { throw ArchiveError(.io, "cannot read \(sync.path) at byte \(position): " + String(cString: strerror(errno)), object: sync.path) }
                    try writer.append(block[0..<got])
                    block.withUnsafeBytes { trailer.update(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
                    position += got
                    self.limiter.charge(got)
                    self.limiter.waitBlocking()
                }
                // As the AOF collector does for its bases: a damaged RDB is not archived.
                if let problem = trailer.problem() {
                    throw ArchiveError(.damaged, "the RDB is damaged: \(problem); not archived (the next full sync tries again)", object: sync.path)
                }
            }
        } catch {
            var failure = CollectorError(error)
            failure.message = "cannot store the RDB of the full sync from \(master) as \(store.describe(key)): \(error)"
            throw failure
        }
        let source = Self.sourcePrefix + sync.position.replicationId
        try append(.generation(.init(gen: gen, sourceFile: source, sourceSeq: Int64(sync.position.offset), format: .rdb, path: key,
                                     size: written.size, sha256: written.sha256, firstStream: nextStream, asOf: sync.at, recordedAt: now)))
        nextGeneration += 1
        generationsCopied += 1
        archived = sync.position
        received = sync.position.offset
        lastProgress = now
        try openStream(now: now)
    }

    private func discardFullSync() {
        guard let sync = fullSync else { return }
        close(sync.descriptor)
        unlink(sync.path)
        fullSync = nil
    }

    private func continued(newReplicationId: String?, now: Double) throws(CollectorError) {
        guard var position = archived else { throw CollectorError("\(master) continued a replication the archive does not hold") }
        if let newReplicationId { position.replicationId = newReplicationId }
        archived = position
        received = position.offset
        try openStream(now: now)
    }

    private func openStream(now: Double) throws(CollectorError) {
        guard let position = archived else { return }
        let number = nextStream
        try append(.stream(.init(stream: number, sourceFile: Self.sourcePrefix + position.replicationId, sourceSeq: Int64(position.offset),
                                 openedBy: now, recordedAt: now)))
        nextStream += 1
        stream = number
        streamSize = 0
        lastStamp = nil
    }

    private func receive(_ command: ReplicaCommand, now: Double) throws(CollectorError) {
        guard stream != nil else { throw CollectorError("\(master) sent commands before a full sync or continuation") }
        guard command.offset == received else {
            throw CollectorError("\(master) sent a command at replication offset \(command.offset), expected \(received)")
        }
        received = command.end
        guard command.kind == .write else {
            // The master's own traffic: archived by being skipped once nothing waits before it.
            if pending.isEmpty && transactionStart == nil { archived?.offset = received }
            return
        }
        if oldestPending == nil { oldestPending = now }
        let second = Int64(now)
        let beforeStamp = pending.count
        if lastStamp != second {
            append(Entry(bytes: ByteBuffer(string: "#TS:\(second)\r\n"), timestamp: second, replicationEnd: command.offset))
            lastStamp = second
        }
        let name = Self.name(of: command.bytes)
        if name == "MULTI" {
            transactionStart = (beforeStamp, command.offset)
        } else if name == "EXEC" || name == "DISCARD" {
            transactionStart = nil
        }
        append(Entry(bytes: command.bytes, timestamp: nil, replicationEnd: command.end))
    }

    private func append(_ entry: Entry) {
        pending.append(entry)
        pendingBytes += entry.bytes.readableBytes
    }

    /// The upper-cased command name (the first word), or "" when it is not an array.
    static func name(of bytes: ByteBuffer) -> String {
        guard let token = try? RESPToken(validating: bytes), case .array(let words) = token.value else { return "" }
        return words.first?.string?.uppercased() ?? ""
    }

    private var committableCount: Int { transactionStart?.index ?? pending.count }
    private var committableBytes: Int {
        guard let cut = transactionStart?.index else { return pendingBytes }
        return pending[0..<cut].reduce(0) { $0 + $1.bytes.readableBytes }
    }

    // MARK: Chunks

    /// Writes every received command that is not inside an open transaction, in chunks of
    /// at most `chunkSize` bytes (one larger command or transaction makes a larger
    /// chunk). Returns the replication offset everything before which is archived.
    @discardableResult
    func flush(now: Double) throws(CollectorError) -> Int? {
        let end = committableCount
        var start = 0
        while start < end {
            var stop = start
            var bytes = 0
            var inTransaction = false
            while stop < end {
                let size = pending[stop].bytes.readableBytes
                // A chunk is cut only outside a transaction, so each chunk's end can be resumed from.
                if bytes > 0 && bytes + size > chunkSize && !inTransaction { break }
                let name = pending[stop].timestamp == nil ? Self.name(of: pending[stop].bytes) : ""
                if name == "MULTI" { inTransaction = true } else if name == "EXEC" || name == "DISCARD" { inTransaction = false }
                bytes += size
                stop += 1
            }
            try writeChunk(pending[start..<stop], bytes: bytes, now: now)
            start = stop
        }
        guard end > 0 || transactionStart == nil else { return archived?.offset }
        let replicationEnd = transactionStart?.offset ?? received
        pending.removeFirst(end)
        pendingBytes = pending.reduce(0) { $0 + $1.bytes.readableBytes }
        if let t = transactionStart { transactionStart = (0, t.offset) }
        if pending.isEmpty { oldestPending = nil }
        archived?.offset = replicationEnd
        return archived?.offset
    }

    private func writeChunk(_ entries: ArraySlice<Entry>, bytes: Int, now: Double) throws(CollectorError) {
        guard let stream else { return }
        let key = ArchiveLayout.chunkPath(stream: stream, offset: streamSize)
        let sha: String
        do {
            sha = try store.write(key, pieces: entries.lazy.map(\.bytes), replacing: true).sha256
        } catch {
            var failure = CollectorError(error)
            failure.message = "cannot archive replication offsets up to \(entries.last?.replicationEnd ?? 0) from \(master) as \(store.describe(key)): \(error)"
            throw failure
        }
        let stamps = entries.compactMap(\.timestamp)
        try append(.chunk(.init(stream: stream, offset: streamSize, length: bytes, sha256: sha, path: key,
                                commands: entries.count - stamps.count, firstTimestamp: stamps.first, lastTimestamp: stamps.last, copiedAt: now)))
        limiter.charge(bytes)
        limiter.waitBlocking()
        streamSize += bytes
        chunksCopied += 1
        bytesCopied += bytes
        lastCopy = now
        lastProgress = now
    }

    /// The link ended: what is whole is archived, an open transaction is dropped (the next
    /// session receives it again from ``archived``), the stream ends.
    func linkEnded(now: Double) throws(CollectorError) {
        discardFullSync()
        defer {
            pending = []
            pendingBytes = 0
            transactionStart = nil
            oldestPending = nil
            received = archived?.offset ?? 0
        }
        try flush(now: now)
        try endStream(now: now)
    }

    private func endStream(now: Double) throws(CollectorError) {
        guard let number = stream else { return }
        try append(.streamEnd(.init(stream: number, size: streamSize, at: now)))
        stream = nil
    }

    /// True while a stream is open (after a full sync's RDB, or a continuation).
    var streaming: Bool { stream != nil }

    /// Bytes received and not yet archived, and when the oldest of them arrived.
    var lag: (bytes: Int, since: Double?) { (received - (archived?.offset ?? received), oldestPending) }

    /// A mark: recorded against the current stream.
    func appendMark(name: String, key: String, at: Double) throws(CollectorError) -> ArchiveRecord.Mark {
        let mark = ArchiveRecord.Mark(name: name, key: key, at: at, stream: stream)
        try append(.mark(mark))
        return mark
    }

    private func append(_ record: ArchiveRecord) throws(CollectorError) {
        do { try writer.append(record) } catch { throw CollectorError(error) }
    }

    /// Replication bytes in the first `size` archived bytes of a stream: its chunks less
    /// the `#TS` lines the collector inserted (only chunks that have some are read).
    static func replicationBytes(of stream: Int, upTo size: Int, index: ArchiveIndex, store: any ArchiveStore) throws(CollectorError) -> Int {
        var total = 0
        for chunk in index.chunks(of: stream) where chunk.end <= size {
            total += chunk.length
            guard chunk.firstTimestamp != nil else { continue }
            let bytes: [UInt8]?
            do { bytes = try store.read(chunk.path) } catch { throw CollectorError(error) }
            guard let bytes, bytes.count == chunk.length else {
                throw CollectorError(.archive, "cannot resume the replication: \(store.describe(chunk.path)) is missing or not \(chunk.length) bytes")
            }
            total -= stampBytes(in: bytes)
        }
        return total
    }

    /// Bytes of the `#TS:` lines between the messages of a chunk.
    static func stampBytes(in bytes: [UInt8]) -> Int {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = RESPDecoder()
        var stamps = 0
        while buffer.readableBytes > 0 {
            if buffer.readableBytesView.first == UInt8(ascii: "#") {
                guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { break }
                let length = newline - buffer.readerIndex + 1
                stamps += length
                buffer.moveReaderIndex(forwardBy: length)
            } else {
                guard (try? decoder.decode(&buffer)) != nil else { break }
            }
        }
        return stamps
    }
}
