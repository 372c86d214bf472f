import Foundation
import NIOCore
import S3

/// Reads a bucket archive's index without listing and without a lock: the current epoch
/// from `index/current.json`, then that epoch's segments `1, 2, 3...` up to the first
/// missing one (fetched several at a time). Segments are created once and never change,
/// so what is read is always a prefix of what the writer published. When the epoch
/// changed while the segments were read (an archive prune replaced the index, deleting
/// the old epoch's segments), the read starts over.
struct S3IndexReader {
    let store: S3ArchiveStore

    static let leaseKey = "lease.json"
    static let epochKey = "index/current.json"
    /// Segments fetched at once while reading an index.
    static let segmentsInFlight = 8
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
        guard let descriptor = try store.read(ArchiveLayout.descriptorKey) else { return nil }
        var epoch = try readEpoch()
        for _ in 0..<Self.attempts {
            let segments = try readSegments(epoch: epoch)
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
        guard let bytes = try store.read(Self.epochKey) else { return 1 }
        let name = store.describe(Self.epochKey)
        guard let pointer = try? JSONDecoder().decode(EpochPointer.self, from: Data(bytes)),
              (1...999_999).contains(pointer.epoch) else {
            throw ArchiveError(.damaged, "\(name): not a valid index pointer (\(String(decoding: bytes.prefix(100), as: UTF8.self)))", object: name)
        }
        return pointer.epoch
    }

    /// The segments of `epoch`, in order, up to the first missing one.
    func readSegments(epoch: Int) throws(ArchiveError) -> [[UInt8]] {
        let store = self.store
        let prefix = store.root.key("")
        return try store.call(Self.epochFolder(epoch)) { client throws(S3Error) -> [[UInt8]] in
            var segments: [[UInt8]] = []
            while true {
                let first = segments.count + 1
                let batch = try await Self.fetch(client, keys: (first..<first + Self.segmentsInFlight).map {
                    prefix + Self.segmentKey(epoch: epoch, number: $0)
                })
                for segment in batch {
                    guard let segment else { return segments }
                    segments.append(segment)
                }
            }
        }
    }

    /// GETs `keys` at once; nil for each missing one.
    static func fetch(_ client: S3Client, keys: [String]) async throws(S3Error) -> [[UInt8]?] {
        do {
            return try await withThrowingTaskGroup(of: (Int, [UInt8]?).self) { group in
                for (i, key) in keys.enumerated() {
                    group.addTask {
                        do throws(S3Error) { return (i, Array(buffer: try await client.getObject(key))) } catch {
                            if error.kind == .noSuchKey { return (i, nil) }
                            throw error
                        }
                    }
                }
                var found = [[UInt8]?](repeating: nil, count: keys.count)
                for try await (i, bytes) in group { found[i] = bytes }
                return found
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(.connectionLost, operation: "GET", endpoint: client.configuration.endpoint.description,
                          bucket: client.bucket, reason: "\(error)")
        }
    }
}

/// `index/current.json`.
struct EpochPointer: Codable {
    var epoch: Int
}
