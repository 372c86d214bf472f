import AOF
import Foundation
import NIOCore
import RESP
import RedisClient
import S3
import Testing

@testable import Operations

/// An archive folder made by hand: an AOF base of one SET (and as many more as asked) and
/// one stream whose chunks are SETs, written piece by piece (a chunk or a base of hundreds
/// of megabytes is never held whole).
struct HandMadeArchive {
    let root: String
    /// Commands in the stream.
    let commands: Int

    /// Chunk `n` holds `perChunk[n]` commands `SET k<i % keys> <value of valueBytes>`; the
    /// base `SET base 1` then `baseCommands` commands `SET b<i % keys> <value of
    /// baseValueBytes>`.
    init(root: String, perChunk: [Int], valueBytes: Int, keys: Int = 100, baseCommands: Int = 0, baseValueBytes: Int = 0) throws {
        self.root = root
        let store = LocalArchiveStore(root: root)
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1000, source: "hand-made"))
        defer { writer.close() }
        let baseValue = String(repeating: "b", count: baseValueBytes)
        let basePath = ArchiveLayout.basePath(gen: 1, format: .aof)
        let baseInfo = try store.write(basePath, replacing: false) { out throws(ArchiveError) in
            try out.append(Array("*3\r\n$3\r\nSET\r\n$4\r\nbase\r\n$1\r\n1\r\n".utf8))
            for j in 0..<baseCommands {
                let key = "b\(j % keys)"
                try out.append(Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(baseValue.utf8.count)\r\n\(baseValue)\r\n".utf8))
            }
        }
        try writer.append(.generation(.init(gen: 1, sourceFile: "appendonly.aof.1.base.aof", sourceSeq: 1, format: .aof, path: basePath,
                                            size: baseInfo.size, sha256: baseInfo.sha256, firstStream: 1, asOf: 100, recordedAt: 100)))
        try writer.append(.stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: 100, recordedAt: 100)))
        let value = String(repeating: "v", count: valueBytes)
        var offset = 0, i = 0
        for (n, count) in perChunk.enumerated() {
            let path = ArchiveLayout.chunkPath(stream: 1, offset: offset)
            let first = i
            let info = try store.write(path, replacing: false) { out throws(ArchiveError) in
                for j in first..<(first + count) {
                    let key = "k\(j % keys)"
                    try out.append(Array("*3\r\n$3\r\nSET\r\n$\(key.utf8.count)\r\n\(key)\r\n$\(value.utf8.count)\r\n\(value)\r\n".utf8))
                }
            }
            i += count
            try writer.append(.chunk(.init(stream: 1, offset: offset, length: info.size, sha256: info.sha256, path: path,
                                           commands: count, firstTimestamp: nil, lastTimestamp: nil, copiedAt: Double(101 + n))))
            offset += info.size
        }
        commands = i
    }

    var store: LocalArchiveStore { LocalArchiveStore(root: root) }
}

/// Descriptors this process has open on restore spool files in `folder` (unlinked files
/// show as `PATH (deleted)` in /proc/self/fd).
func openSpoolFiles(in folder: String) -> [String] {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return fds.compactMap { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
              target.hasPrefix(folder + "/redkeep-restore-spool-") else { return nil }
        return target
    }
}

/// A restore from a bucket downloads each object once: the check spools what it does not
/// keep in memory to a private, unlinked local file, and the write reads it from there.
/// The spool is gone after success, failure and interruption, and a spool with no room
/// falls back to downloading again, saying so.
@Suite(.serialized) struct RestoreSpoolTests {
    /// A hand-made archive of `chunks` chunks of 2,000 SETs with 100-byte values, copied
    /// into a fresh bucket; `body` gets the bucket's store, the archive and a spool folder.
    func withBucketArchive(chunks: Int = 5, _ body: @escaping @Sendable (S3ArchiveStore, HandMadeArchive, String, Lab) async throws -> Void) async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "spool") { objects in
                let archive = try HandMadeArchive(root: try restoreTemporaryFolder("archive", in: lab), perChunk: Array(repeating: 2000, count: chunks), valueBytes: 100)
                let bucket = try S3ArchiveStoreTests.open(objects, "s3://spool/archive/")
                let local = archive.store
                _ = try await ArchiveIO.run { try ArchiveCopy.run(from: local, to: bucket) }
                let spoolFolder = try restoreTemporaryFolder("spool", in: lab)
                try await body(bucket, archive, spoolFolder, lab)
            }
        }
    }

    /// Keys a cursor hands out, in order.
    static func replayKeys(_ cursor: ReplayCursor) throws -> [String] {
        defer { cursor.finish() }
        var keys: [String] = []
        while let e = try cursor.next() {
            if e.entry.isCommand { keys.append(e.entry.argument(1) ?? "") }
        }
        return keys
    }

    @Test func eachChunkIsDownloadedOnceAndTheWriteReadsTheSpool() async throws {
        try await withBucketArchive { bucket, archive, spoolFolder, _ in
            let (plan, chunks, expected) = try await ArchiveIO.run {
                let plan = try RestorePlan.make(try ArchiveIndex.read(bucket), target: .latest)
                let expected = try Self.replayKeys(ReplayCursor(try RestorePlan.make(try ArchiveIndex.read(archive.root), target: .latest)))
                return (plan, plan.neededChunks, expected)
            }
            #expect(chunks.count == 5)
            #expect(expected.count == archive.commands)
            do {
                // Room in memory for the base and the first chunk only: the other four go
                // to the spool.
                let before = bucket.statistics.gets
                let kept = try await Restore.checkObjects(plan, keeping: plan.generation.size + chunks[0].length, spoolFolder: spoolFolder,
                                                          stop: StopFlag(), progress: nil)
                #expect(bucket.statistics.gets - before == chunks.count + 1, "one GET per chunk and one for the base")
                #expect(kept.holds(chunks[0]) && !kept.holdsSpooled(chunks[0]))
                #expect(chunks.dropFirst().allSatisfy { kept.holdsSpooled($0) })
                #expect(kept.bytesSpooled == chunks.dropFirst().reduce(0) { $0 + $1.length })
                #expect(kept.notes.isEmpty, "\(kept.notes)")
                // The spool is one unlinked file: open here, nowhere in the folder.
                #expect(openSpoolFiles(in: spoolFolder).count == 1)
                #expect(openSpoolFiles(in: spoolFolder).allSatisfy { $0.hasSuffix(" (deleted)") })
                #expect(try FileManager.default.contentsOfDirectory(atPath: spoolFolder).isEmpty)

                // The bucket's copy of a spooled chunk changes after the check: the write
                // uses the bytes checked, and downloads nothing.
                let spoiled = chunks[2]
                try await ArchiveIO.run {
                    var changed = try #require(try bucket.read(spoiled.path))
                    for i in changed.indices where changed[i] == UInt8(ascii: "v") { changed[i] = UInt8(ascii: "w") }
                    try bucket.write(spoiled.path, bytes: changed, replacing: true)
                }
                let afterCheck = bucket.statistics.gets
                // Read here, not on the thread pool: a pool's closure could hold the
                // cursor (and the spool) a moment after it returned.
                let keys = try Self.replayKeys(ReplayCursor(plan, checked: kept))
                #expect(keys == expected)
                #expect(bucket.statistics.gets == afterCheck, "the write downloaded \(bucket.statistics.gets - afterCheck) objects again")
                #expect(kept.bytesSpooled == 0, "each spooled chunk is handed out once")
            }
            // Everything released: the spool file is closed, so its blocks are free.
            #expect(openSpoolFiles(in: spoolFolder).isEmpty)
        }
    }

    @Test func aSpoolWithoutRoomDownloadsTheRestAgainAndSaysSo() async throws {
        try await withBucketArchive { bucket, archive, spoolFolder, _ in
            let plan = try await ArchiveIO.run { try RestorePlan.make(try ArchiveIndex.read(bucket), target: .latest) }
            let chunks = plan.neededChunks
            // Nothing kept in memory; room in the spool for the base (spooled first) and
            // two chunks of five.
            let kept = try await Restore.checkObjects(plan, keeping: 0, spoolFolder: spoolFolder,
                                                      spoolCapacity: plan.generation.size + chunks[0].length + chunks[1].length,
                                                      stop: StopFlag(), progress: nil)
            #expect(kept.holdsSpooled(chunks[0]) && kept.holdsSpooled(chunks[1]))
            #expect(!kept.holds(chunks[2]) && !kept.holds(chunks[3]) && !kept.holds(chunks[4]))
            let note = try #require(kept.notes.first)
            #expect(note.contains(spoolFolder) && note.contains("3 chunks") && note.contains("downloads those again"), "\(note)")
            let before = bucket.statistics.gets
            let keys = try await ArchiveIO.run { try Self.replayKeys(ReplayCursor(plan, checked: kept)) }
            #expect(keys.count == archive.commands)
            #expect(bucket.statistics.gets - before == 3, "the three chunks not spooled, and only those, are downloaded again")
        }
    }

    @Test func aSpoolThatCannotBeMadeIsANoteNotAFailure() async throws {
        try await withBucketArchive(chunks: 2) { bucket, archive, spoolFolder, lab in
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            var options = RestoreOptions()
            options.checkedBytesKept = 0
            options.spoolFolder = spoolFolder + "/missing"
            let report = try await Restore.run(archive: bucket, target: .latest, destination: .connection(c, name: "target", scratch: lab), options: options)
            #expect(report.outcome.commands == archive.commands)
            let note = try #require(report.outcome.notes.first)
            #expect(note.contains("cannot make a restore spool file in \(spoolFolder)/missing") && note.contains("2 chunks"), "\(note)")
            await c.close()
        }
    }

    @Test func theSpoolIsGoneAfterSuccessFailureAndInterruption() async throws {
        try await withBucketArchive { bucket, archive, spoolFolder, lab in
            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            var settings = RestoreOptions(window: 500, flush: true)
            settings.checkedBytesKept = 0
            settings.spoolFolder = spoolFolder
            let options = settings
            let destination = RestoreDestination.connection(c, name: "target", scratch: lab)

            // Success: while the write runs the spool is open (and unlinked); after, gone.
            let seen = LockedValue<[String]>([])
            let report = try await Restore.run(archive: bucket, target: .latest, destination: destination, options: options) { progress in
                if progress.phase == .stream { seen.withLock { $0 += openSpoolFiles(in: spoolFolder) } }
            }
            #expect(report.outcome.commands == archive.commands)
            #expect(try await c.send(["GET", "k7"]).string?.count == 100)
            #expect(!seen.withLock { $0 }.isEmpty, "the write read from a spool")
            #expect(openSpoolFiles(in: spoolFolder).isEmpty)

            // Interruption (Ctrl-C cancels the restore's task) in the middle of the write.
            let task = LockedValue<Task<RestoreReport, any Error>?>(nil)
            let (gate, open) = AsyncStream<Void>.makeStream()
            let started = Task {
                for await _ in gate { break }  // until `task` is set
                return try await Restore.run(archive: bucket, target: .latest, destination: destination, options: options) { progress in
                    if progress.phase == .stream { task.withLock { $0?.cancel() } }
                }
            }
            task.withLock { $0 = started }
            open.yield()
            open.finish()
            let interrupted = try await started.value
            #expect(interrupted.outcome.interrupted)
            #expect(interrupted.outcome.commands < archive.commands)
            #expect(openSpoolFiles(in: spoolFolder).isEmpty)

            // Failure: the last chunk in the bucket is cut short after the archive was
            // written. The check refuses it naming the object, nothing is written, and
            // the chunks spooled before it are gone too.
            _ = try await c.send(["FLUSHALL"])
            _ = try await c.send(["SET", "untouched", "1"])
            let last = try await ArchiveIO.run { try ArchiveIndex.read(bucket).chunks.last! }
            try await ArchiveIO.run {
                let bytes = try #require(try bucket.read(last.path))
                try bucket.write(last.path, bytes: bytes.dropLast(10), replacing: true)
            }
            let failure = try await #require(throws: RestoreError.self) {
                _ = try await Restore.run(archive: bucket, target: .latest, destination: destination, options: options)
            }
            #expect(failure.kind == .damagedArchive)
            #expect(failure.message.contains(bucket.describe(last.path)) && failure.message.contains("nothing was written"), "\(failure.message)")
            #expect(try await c.send(["DBSIZE"]).int == 1)
            #expect(openSpoolFiles(in: spoolFolder).isEmpty)
            await c.close()
        }
    }
}

/// A value shared between a test and the closures it hands out, under a lock.
final class LockedValue<Value>: @unchecked Sendable {
    // @unchecked: `value` is used under `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
