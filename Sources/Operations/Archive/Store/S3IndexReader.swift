import Foundation
import NIOCore
import S3

/// Reads a bucket archive's index without listing and without a lock: the current epoch
/// from `index/current.json`, then that epoch's segments `1, 2, 3...` up to the first
/// missing one. Segments are created once and never change, so what is read is always a
/// prefix of what the writer published. When the epoch changed while the segments were
/// read (an archive prune replaced the index, deleting the old epoch's segments), the
/// read starts over.
///
/// Every step of a read waits for a round trip to the store (20-50 ms to AWS S3), and a
/// restore cannot check anything before the index is read, so it sends as many requests
/// at once as it can: the descriptor, the epoch pointer and the first segments of epoch 1
/// (every archive's epoch until its first prune or compaction) together; then, when more
/// segments follow, batches that double up to ``maximumSegmentsInFlight`` (an index has up
/// to ``S3IndexWriter/compactAfter`` segments before compaction: about 20 round trips
/// rather than about 130); then the epoch pointer once more.
struct S3IndexReader {
    let store: S3ArchiveStore

    static let leaseKey = "lease.json"
    static let epochKey = "index/current.json"
    /// Segments fetched in the first batch of an epoch.
    static let segmentsInFlight = 8
    /// The most segments fetched at once, as batches grow.
    static let maximumSegmentsInFlight = 64
    /// Tries before giving up on an index that keeps being replaced under the reader.
    static let attempts = 5

    /// The folder of an epoch's segments: `index/000001/`.
    static func epochFolder(_ epoch: Int) -> String { "index/" + String(format: "%06d", epoch) + "/" }
    /// A segment's key: `index/000001/000000000001.jsonl`.
    static func segmentKey(epoch: Int, number: Int) -> String { epochFolder(epoch) + String(format: "%012d", number) + ".jsonl" }

    /// What a read found: the index, its epoch and how many segments it has.
    struct State {
        var data: ArchiveIndexData
        var epoch: Int
        var segments: Int
    }

    /// The index; nil when the location holds no archive (no `archive.json`).
    func read() throws(ArchiveError) -> ArchiveIndexData? { try readState()?.data }

    /// The index with its epoch and segment count.
    func readState() throws(ArchiveError) -> State? {
        // The descriptor, the pointer and epoch 1's first segments, in one round trip.
        let guess = 1
        let opening = try fetch([ArchiveLayout.descriptorKey, Self.epochKey] + segmentKeys(epoch: guess, from: 1, count: Self.segmentsInFlight))
        guard let descriptor = opening[0] else { return nil }
        var epoch = try Self.epoch(from: opening[1], name: store.describe(Self.epochKey))
        var known: [[UInt8]?]? = epoch == guess ? Array(opening[2...]) : nil
        for _ in 0..<Self.attempts {
            let segments = try readSegments(epoch: epoch, firstBatch: known)
            known = nil
            let now = try readEpoch()
            guard now == epoch else {
                epoch = now
                continue
            }
            var lines: [ArraySlice<UInt8>] = []
            for segment in segments {
                lines += segment.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
            }
            let data = ArchiveIndexData(descriptor: descriptor, lines: lines, tornTail: false,
                                        name: store.describe(Self.epochFolder(epoch)))
            return State(data: data, epoch: epoch, segments: segments.count)
        }
        let name = store.describe(Self.epochKey)
        throw ArchiveError(.unreachable, "the index of \(store.location) was replaced \(Self.attempts) times while it was read (\(name)); try again", object: name)
    }

    /// The current epoch: 1 until an archive prune first replaced the index.
    func readEpoch() throws(ArchiveError) -> Int {
        try Self.epoch(from: try store.read(Self.epochKey), name: store.describe(Self.epochKey))
    }

    /// The epoch `index/current.json` holds (`bytes`; nil when it is missing: epoch 1).
    static func epoch(from bytes: [UInt8]?, name: String) throws(ArchiveError) -> Int {
        guard let bytes else { return 1 }
        guard let pointer = try? JSONDecoder().decode(EpochPointer.self, from: Data(bytes)),
              (1...999_999).contains(pointer.epoch) else {
            throw ArchiveError(.damaged, "\(name): not a valid index pointer (\(String(decoding: bytes.prefix(100), as: UTF8.self)))", object: name)
        }
        return pointer.epoch
    }

    /// The segments of `epoch`, in order, up to the first missing one. `firstBatch`, when
    /// given, is what fetching the first ``segmentsInFlight`` of them found.
    func readSegments(epoch: Int, firstBatch: [[UInt8]?]? = nil) throws(ArchiveError) -> [[UInt8]] {
        var segments: [[UInt8]] = []
        var width = Self.segmentsInFlight
        var batch: [[UInt8]?]
        if let firstBatch { batch = firstBatch } else { batch = try fetch(segmentKeys(epoch: epoch, from: 1, count: width)) }
        while true {
            for segment in batch {
                guard let segment else { return segments }
                segments.append(segment)
            }
            width = min(width * 2, Self.maximumSegmentsInFlight)
            batch = try fetch(segmentKeys(epoch: epoch, from: segments.count + 1, count: width))
        }
    }

    /// The keys (relative to the store's root) of `count` segments of `epoch` from `first`.
    func segmentKeys(epoch: Int, from first: Int, count: Int) -> [String] {
        (first..<first + count).map { Self.segmentKey(epoch: epoch, number: $0) }
    }

    /// GETs `keys` (relative to the store's root) at once; nil for each missing one.
    func fetch(_ keys: [String]) throws(ArchiveError) -> [[UInt8]?] {
        let prefix = store.root.key("")
        let client = store.client
        do {
            return try store.blocking { () async throws(S3Error) -> [[UInt8]?] in try await Self.fetch(client, keys: keys.map { prefix + $0 }) }
        } catch {
            // Named by the key whose request failed.
            let key = error.key.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            throw store.archiveError(error, key: key)
        }
    }

    /// GETs `keys` at once; nil for each missing one. When several fail, the failure of
    /// the first key asked for is thrown (the descriptor's before a segment's, so what a
    /// wrong secret or a missing bucket is reported against does not depend on which
    /// answer came first).
    static func fetch(_ client: S3Client, keys: [String]) async throws(S3Error) -> [[UInt8]?] {
        let results = await withTaskGroup(of: (Int, Result<[UInt8]?, S3Error>).self) { group in
            for (i, key) in keys.enumerated() {
                group.addTask {
                    do throws(S3Error) { return (i, .success(Array(buffer: try await client.getObject(key)))) } catch {
                        return (i, error.kind == .noSuchKey ? .success(nil) : .failure(error))
                    }
                }
            }
            var found = [Result<[UInt8]?, S3Error>](repeating: .success(nil), count: keys.count)
            for await (i, result) in group { found[i] = result }
            return found
        }
        return try results.map { result throws(S3Error) in try result.get() }
    }
}

/// `index/current.json`.
struct EpochPointer: Codable {
    var epoch: Int
}
