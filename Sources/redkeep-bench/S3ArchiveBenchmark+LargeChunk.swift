import ArgumentParser
import Foundation
import Operations

extension S3ArchiveBenchmark {
    /// Memory whatever the chunk size: an archive holding one chunk of `megabytes` MB
    /// (64 KB SETs over 100 keys, as `--chunk-size 1GB` or one huge command would make),
    /// restored by the `redkeep` command from a folder and from the bucket, each timed
    /// with its own peak resident memory (`/usr/bin/time -f %M`).
    static func largeChunk(megabytes: Int, work: String, bucket: any ArchiveStore, endpoint: String, port: Int, redkeep: String) async throws {
        let folder = work + "/large-chunk"
        let store = LocalArchiveStore(root: folder)
        let length = try await ArchiveIO.run { try Self.writeLargeChunkArchive(store, megabytes: megabytes) }
        _ = try await ArchiveIO.run { try ArchiveCopy.run(from: store, to: bucket) }
        print("  one chunk of \(length / 1_000_000) MB (64 KB SETs over 100 keys), replay-until --into by the redkeep command:")
        for (label, archive) in [("folder", folder), ("bucket", "\(bucket.location) --s3-endpoint \(endpoint)")] {
            let script = "connect t 127.0.0.1:\(port); replay-until now --archive \(archive) --into t --flush"
            let start = ContinuousClock.now
            let run = try await ExternalCommand.run("/usr/bin/time", ["-f", "max-rss-kb %M", redkeep, "-c", script])
            let seconds = (ContinuousClock.now - start).inSeconds
            let rss = run.output.split(separator: "\n").last { $0.hasPrefix("max-rss-kb ") }.flatMap { Double($0.dropFirst(11)) }
            guard run.succeeded, let rss else { throw ValidationError("redkeep from the \(label) failed: \(run.output.suffix(500))") }
            let mb = rss / 1024
            print("      from the \(label): \(fixed(seconds))s, peak memory (max RSS) \(fixed(mb)) MB  \(mb < 100 ? "meets goal < 100 MB" : "ABOVE goal < 100 MB")")
        }
    }

    /// Writes the archive: an AOF base of one SET, then one chunk of `megabytes` MB and a
    /// small one, written piece by piece. Returns the large chunk's length.
    static func writeLargeChunkArchive(_ store: LocalArchiveStore, megabytes: Int) throws -> Int {
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: Date().timeIntervalSince1970, source: "bench-large-chunk"))
        defer { writer.close() }
        let base = Array("*3\r\n$3\r\nSET\r\n$4\r\nbase\r\n$1\r\n1\r\n".utf8)
        let basePath = ArchiveLayout.basePath(gen: 1, format: .aof)
        let baseInfo = try store.write(basePath, bytes: base)
        let now = Date().timeIntervalSince1970
        try writer.append(.generation(.init(gen: 1, sourceFile: "appendonly.aof.1.base.aof", sourceSeq: 1, format: .aof, path: basePath,
                                            size: base.count, sha256: baseInfo.sha256, firstStream: 1, asOf: now, recordedAt: now)))
        try writer.append(.stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: now, recordedAt: now)))
        let value = String(repeating: "v", count: 64 * 1024)
        let perCommand = 4 + 9 + 5 + 8 + 11 + value.count  // about one 64 KB SET
        var offset = 0, first = 0, largest = 0
        for count in [max(1, megabytes * 1_000_000 / perCommand), 10] {
            let path = ArchiveLayout.chunkPath(stream: 1, offset: offset)
            let from = first
            let info = try store.write(path, replacing: false) { out throws(ArchiveError) in
                for i in from..<(from + count) {
                    let key = "k\(i % 100)"
                    try out.append(Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n".utf8))
                }
            }
            try writer.append(.chunk(.init(stream: 1, offset: offset, length: info.size, sha256: info.sha256, path: path,
                                           commands: count, firstTimestamp: nil, lastTimestamp: nil, copiedAt: now)))
            offset += info.size
            first += count
            largest = max(largest, info.size)
        }
        return largest
    }
}
