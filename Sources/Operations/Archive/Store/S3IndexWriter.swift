import Foundation
import NIOCore
import S3

/// Publishes a bucket archive's index records while holding its lease.
///
/// - Records go into segments `index/EPOCH/NNNNNNNNNNNN.jsonl`, one per ``append(_:)``,
///   each created with `If-None-Match: *` and numbered without gaps: a reader sees a
///   segment whole or not at all, and a writer that lost its lease to another fails on
///   the first segment number the other has used instead of writing over it.
/// - ``replaceAll(with:)`` (archive prune, and compaction when segments pile up) writes
///   the records as segment 1 of the next epoch, then points `index/current.json` at it,
///   then deletes the old epoch's segments: a reader that read the old epoch while this
///   happened notices the pointer changed and reads again, so nobody sees half of each.
/// - The lease, `lease.json`, is created with `If-None-Match: *` and holds the writer's
///   id and expiry; a helper thread renews it every ``renewInterval``. A live lease of
///   another writer refuses with ``ArchiveError/Kind/locked`` naming its holder; an
///   expired one (a writer that died) is taken over.
final class S3IndexWriter: ArchiveIndexWriting, @unchecked Sendable {
    // @unchecked: the publishing methods are used by one thread at a time (the
    // collector's, or one prune or mark); the lease state is guarded by `condition`.
    let s3: S3ArchiveStore
    var store: any ArchiveStore { s3 }
    /// This writer's id: host, pid and a random part.
    let holder: String
    /// How long a lease lives without renewal.
    let leaseDuration: TimeInterval
    private var epoch: Int
    private var nextSegment: Int
    /// Segments in the current epoch; past ``compactAfter`` they are folded into one.
    static let compactAfter = 1024
    let condition = NSCondition()
    var closed = false
    var lostLease: String?

    var renewInterval: TimeInterval { leaseDuration / 3 }

    /// A new writer id: host, pid and a random part.
    static func newHolder() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Takes the lease (creating the archive from `descriptor` when the location is
    /// empty) and finds where the index ends.
    init(store: S3ArchiveStore, creating descriptor: ArchiveDescriptor?, leaseDuration: TimeInterval = 60) throws(ArchiveError) {
        self.s3 = store
        self.leaseDuration = leaseDuration
        self.holder = store.leaseHolder ?? Self.newHolder()
        self.epoch = 1
        self.nextSegment = 1
        let existing = try store.size(of: ArchiveLayout.descriptorKey)
        if existing == nil {
            guard descriptor != nil else {
                let name = store.describe(ArchiveLayout.descriptorKey)
                throw ArchiveError(.notAnArchive, "\(store.location) is not a redkeep archive: \(name) is missing", object: name)
            }
            let present = try store.list(prefix: "").filter { $0 != S3IndexReader.leaseKey }
            guard present.isEmpty else {
                let shown = present.sorted().prefix(5).joined(separator: ", ") + (present.count > 5 ? ", ..." : "")
                throw ArchiveError(.notAnArchive, "\(store.location) is not empty and holds no archive (no archive.json; it holds \(present.count) objects: \(shown)): refusing to write an archive there; name an empty prefix", object: store.location)
            }
        }
        try acquireLease()
        do throws(ArchiveError) {
            if existing == nil, let descriptor {
                let bytes: [UInt8]
                do { bytes = Array(try ArchiveIndex.encoder.encode(descriptor)) + [UInt8(ascii: "\n")] } catch {
                    throw ArchiveError(.invalidRequest, "cannot encode the descriptor of \(store.location): \(error)")
                }
                do { try store.write(ArchiveLayout.descriptorKey, bytes: bytes) } catch {
                    // Created by another writer between our look and our lease: theirs stands.
                    guard error.kind == .invalidRequest else { throw error }
                }
            }
            let reader = S3IndexReader(store: store)
            guard let state = try reader.readState() else {
                throw ArchiveError(.notAnArchive, "\(store.location) is not a redkeep archive", object: store.location)
            }
            epoch = state.epoch
            nextSegment = state.segments + 1
            if state.segments > Self.compactAfter { try publishEpoch(lines: state.data.lines) }
        } catch {
            close()
            throw error
        }
        startRenewing()
    }

    deinit { close() }

    func append(_ records: [ArchiveRecord]) throws(ArchiveError) {
        try checkOpen()
        guard !records.isEmpty else { return }
        let text = try LocalIndexWriter.lines(records, for: s3.location)
        let key = S3IndexReader.segmentKey(epoch: epoch, number: nextSegment)
        do { try s3.write(key, bytes: text) } catch {
            guard error.kind == .invalidRequest else { throw error }
            throw ArchiveError(.locked, "another writer published \(s3.describe(key)) first: this writer of \(s3.location) lost its lease and stops", object: s3.describe(key))
        }
        nextSegment += 1
        if nextSegment > Self.compactAfter + 1, let state = try S3IndexReader(store: s3).readState(), state.epoch == epoch {
            try publishEpoch(lines: state.data.lines)
        }
    }

    func replaceAll(with records: [ArchiveRecord]) throws(ArchiveError) {
        try checkOpen()
        let text = try LocalIndexWriter.lines(records, for: s3.location)
        try publishEpoch(lines: text.split(separator: UInt8(ascii: "\n")))
    }

    /// Makes `lines` the whole index: segment 1 of the next epoch, then the pointer, then
    /// the old epoch's segments go.
    private func publishEpoch(lines: [ArraySlice<UInt8>]) throws(ArchiveError) {
        let next = epoch + 1
        // Left by a replacement that failed half-way: never pointed at, so unseen.
        let stale = try s3.list(prefix: S3IndexReader.epochFolder(next))
        try s3.delete(stale)
        var text: [UInt8] = []
        for line in lines { text += line; text.append(UInt8(ascii: "\n")) }
        if !text.isEmpty { try s3.write(S3IndexReader.segmentKey(epoch: next, number: 1), bytes: text) }
        let pointer: [UInt8]
        do { pointer = Array(try JSONEncoder().encode(EpochPointer(epoch: next))) } catch {
            throw ArchiveError(.invalidRequest, "cannot encode the index pointer of \(s3.location): \(error)")
        }
        try s3.write(S3IndexReader.epochKey, bytes: pointer, replacing: true)
        let old = epoch
        epoch = next
        nextSegment = text.isEmpty ? 1 : 2
        try s3.delete(try s3.list(prefix: S3IndexReader.epochFolder(old)))
    }

    private func checkOpen() throws(ArchiveError) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { throw ArchiveError(.invalidRequest, "the index writer of \(s3.location) is closed") }
        if let lostLease { throw ArchiveError(.locked, lostLease, object: s3.describe(S3IndexReader.leaseKey)) }
    }

    func close() {
        condition.lock()
        let first = !closed
        closed = true
        condition.broadcast()
        condition.unlock()
        guard first else { return }
        // Give the lease back only if it is still ours.
        if let lease = try? readLease(), lease.holder == holder {
            try? s3.delete([S3IndexReader.leaseKey])
        }
    }

    /// Waits one renewal interval; false when the writer closed meanwhile.
    func waitForRenewal() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let until = Date().addingTimeInterval(renewInterval)
        while !closed && Date() < until { _ = condition.wait(until: until) }
        return !closed
    }

    /// Records that the lease went to another writer: the next publish fails with it.
    func loseLease(_ why: String) {
        condition.lock()
        lostLease = why
        condition.unlock()
    }
}
