import Foundation
import NIOCore
import RESP
import RedisClient
import S3
import Testing

@testable import Operations

/// A base larger than the bytes a restore keeps in memory goes through the restore spool
/// as a large chunk does: from a bucket it is downloaded once, hashed on its way into the
/// spool, and loaded from there a block at a time (AOF and RDB), so memory does not grow
/// with it; a base replaced in the bucket after the check is not used. With no room in
/// the spool it is downloaded again and hashed as it is read: a changed base then fails
/// the restore, naming it.
@Suite(.serialized) struct RestoreBaseSpoolTests {
    /// The bytes kept in memory in these tests: a base of a few MB is over it.
    static let budget = 1 << 20

    /// A copy of the archive folder `root` in the bucket `name` of `objects`.
    static func copy(_ root: String, to objects: LocalObjectStore, _ name: String) async throws -> S3ArchiveStore {
        let bucket = try S3ArchiveStoreTests.open(objects, "s3://\(name)/archive/")
        let local = LocalArchiveStore(root: root)
        _ = try await ArchiveIO.run { try ArchiveCopy.run(from: local, to: bucket) }
        return bucket
    }

    /// Options keeping ``budget`` bytes in memory, spooling to `spoolFolder`.
    static func options(spoolFolder: String? = nil) -> RestoreOptions {
        var options = RestoreOptions(window: 1000)
        options.checkedBytesKept = budget
        options.spoolFolder = spoolFolder
        return options
    }

    /// Restores `archive` to its end into a new server `name` (DEBUG allowed); returns its
    /// connection and the report.
    static func restore(_ archive: any ArchiveStore, into name: String, lab: Lab, options: RestoreOptions,
                        progress: (@Sendable (RestoreProgress) -> Void)? = nil) async throws -> (RedisConnection, RestoreReport) {
        let server = try await lab.start(name, RDBRoundTripTests.options())
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        let report = try await Restore.run(archive: archive, target: .latest, destination: .connection(c, name: name, scratch: lab),
                                           options: options, progress: progress)
        return (c, report)
    }

    /// Restores `bucket` into `name` from a spool in `spoolFolder`, and checks what was
    /// downloaded beyond the index: one GET per object the plan needs, the base's
    /// included, and each object's bytes once. Also checks that the base loaded while a
    /// spool file was open, that the result equals a restore of the archive folder
    /// `root` (whose base is read again a block at a time, hashed), and that the spool
    /// is gone after.
    static func restoreOnceFromTheSpool(_ bucket: S3ArchiveStore, equal root: String, lab: Lab) async throws -> RedisConnection {
        let spoolFolder = try restoreTemporaryFolder("spool", in: lab)
        let plan = try await ArchiveIO.run { try RestorePlan.make(try ArchiveIndex.read(bucket), target: .latest) }
        #expect(plan.generation.size > 2 * budget, "the base holds \(plan.generation.size) bytes")
        let stats = bucket.statistics
        var (gets, bytes) = (stats.gets, stats.bytesReceived)
        _ = try await ArchiveIO.run { try ArchiveIndex.read(bucket) }
        let index = (gets: stats.gets - gets, bytes: stats.bytesReceived - bytes)
        let spoolWhileLoading = LockedValue<[String]>([])
        (gets, bytes) = (stats.gets, stats.bytesReceived)
        let (target, report) = try await restore(bucket, into: "target", lab: lab, options: options(spoolFolder: spoolFolder)) { progress in
            if progress.phase == .base { spoolWhileLoading.withLock { $0 += openSpoolFiles(in: spoolFolder) } }
        }
        #expect(stats.gets - gets - index.gets == 1 + plan.neededChunks.count, "one GET per object, the base's included")
        #expect(stats.bytesReceived - bytes - index.bytes == plan.generation.size + plan.neededChunks.reduce(0) { $0 + $1.length })
        #expect(report.outcome.notes.isEmpty, "\(report.outcome.notes)")
        #expect(!report.outcome.interrupted && report.outcome.stoppedAt == nil)
        #expect(!spoolWhileLoading.withLock { $0 }.isEmpty, "the base was read from the spool")
        #expect(openSpoolFiles(in: spoolFolder).isEmpty)
        let (reference, _) = try await restore(LocalArchiveStore(root: root), into: "reference", lab: lab, options: options())
        #expect(try await RDBRoundTripTests.digest(target) == (try await RDBRoundTripTests.digest(reference)))
        await reference.close()
        return target
    }

    /// An archive whose RDB base holds 3,000 values of 1 KB of random bytes (about 3 MB:
    /// LZF cannot shrink them), with 2,000 SETs after it.
    static func rdbArchive(_ lab: Lab) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let (_, archive) = try await RestoreSafetyTests.archive(lab, keys: 3000) { _ in
            var value = ByteBufferAllocator().buffer(capacity: 1024)
            for _ in 0..<128 { value.writeInteger(generator.next() as UInt64) }
            return .bytes(value)
        }
        #expect(try ArchiveIndex.read(archive).generations.last?.format == .rdb)
        return archive
    }

    /// Checks `bucket`'s objects as a restore does (with `spoolCapacity` bytes of spool),
    /// then replaces the base in the bucket by `spoil` of it, and loads the base into a
    /// new server `name`, and puts the base back. Returns its connection, what the load
    /// did, and the check's notes.
    static func loadAfterReplacingTheBase(_ bucket: S3ArchiveStore, spoolCapacity: Int?, into name: String, lab: Lab,
                                          spoil: @escaping @Sendable ([UInt8]) -> [UInt8]) async throws
        -> (RedisConnection, Result<BaseLoadResult, RestoreError>, notes: [String]) {
        let plan = try await ArchiveIO.run { try RestorePlan.make(try ArchiveIndex.read(bucket), target: .latest) }
        let kept = try await Restore.checkObjects(plan, keeping: budget, spoolFolder: try restoreTemporaryFolder("spool", in: lab),
                                                  spoolCapacity: spoolCapacity, stop: StopFlag(), progress: nil)
        let path = plan.generation.path
        let original = try await ArchiveIO.run {
            let bytes = try #require(try bucket.read(path))
            try bucket.write(path, bytes: spoil(bytes), replacing: true)
            return bytes
        }
        // The bucket's base as it was after, for the next check.
        defer { _ = try? bucket.write(path, bytes: original, replacing: true) }
        let server = try await lab.start(name, RDBRoundTripTests.options())
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        var loader = BaseLoader(plan: plan, target: c, lab: lab, window: 1000, stop: StopFlag(), progress: nil)
        loader.checked = kept
        let result: Result<BaseLoadResult, RestoreError>
        do throws(RestoreError) { result = .success(try await loader.load()) } catch { result = .failure(error) }
        return (c, result, kept.notes)
    }

    /// Expects `result` to be the damaged-archive failure of a base that changed since the check.
    static func expectChangedBase(_ result: Result<BaseLoadResult, RestoreError>, _ bucket: S3ArchiveStore, notes: [String]) async throws {
        let plan = try await ArchiveIO.run { try RestorePlan.make(try ArchiveIndex.read(bucket), target: .latest) }
        let note = try #require(notes.first)
        #expect(note.contains("no room for the base") && note.contains("checking its sha256"), "\(note)")
        guard case .failure(let failure) = result else { Issue.record("a base changed since the check was loaded"); return }
        #expect(failure.kind == .damagedArchive)
        #expect(failure.message.contains(plan.baseName) && failure.message.contains("does not match its sha256"), "\(failure.message)")
    }

    @Test func anAOFBaseOverTheBudgetIsDownloadedOnceAndLoadedFromTheSpool() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "aofbase") { objects in
                let archive = try HandMadeArchive(root: try restoreTemporaryFolder("archive", in: lab), perChunk: [2000, 2000], valueBytes: 100,
                                                  baseCommands: 3000, baseValueBytes: 1000)
                let bucket = try await Self.copy(archive.root, to: objects, "aofbase")
                let target = try await Self.restoreOnceFromTheSpool(bucket, equal: archive.root, lab: lab)
                #expect(try await target.send(["DBSIZE"]).int == 201)
                #expect(try await target.send(["STRLEN", "b42"]).int == 1000)
                await target.close()
            }
        }
    }

    @Test func anRDBBaseOverTheBudgetIsDownloadedOnceAndLoadedFromTheSpool() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "rdbbase") { objects in
                let archive = try await Self.rdbArchive(lab)
                let bucket = try await Self.copy(archive, to: objects, "rdbbase")
                let target = try await Self.restoreOnceFromTheSpool(bucket, equal: archive, lab: lab)
                #expect(try await target.send(["DBSIZE"]).int == 5000)
                await target.close()
            }
        }
    }

    @Test func anAOFBaseReplacedInTheBucketAfterTheCheckIsNotUsed() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "aofchanged") { objects in
                let archive = try HandMadeArchive(root: try restoreTemporaryFolder("archive", in: lab), perChunk: [10], valueBytes: 100,
                                                  baseCommands: 3000, baseValueBytes: 1000)
                let bucket = try await Self.copy(archive.root, to: objects, "aofchanged")
                // Same size, other values: it still parses.
                let spoil: @Sendable ([UInt8]) -> [UInt8] = { $0.map { $0 == UInt8(ascii: "b") ? UInt8(ascii: "c") : $0 } }

                // Spooled: the bytes checked are loaded, not the bucket's.
                let (spooled, loaded, notes) = try await Self.loadAfterReplacingTheBase(bucket, spoolCapacity: nil, into: "spooled", lab: lab, spoil: spoil)
                #expect(notes.isEmpty, "\(notes)")
                #expect(try loaded.get().applied == 3001)
                #expect(try await spooled.send(["GET", "b42"]).string == String(repeating: "b", count: 1000))
                await spooled.close()

                // No room in the spool: read again, hashed as it is read, and refused.
                let (again, failed, noted) = try await Self.loadAfterReplacingTheBase(bucket, spoolCapacity: 1000, into: "again", lab: lab, spoil: spoil)
                try await Self.expectChangedBase(failed, bucket, notes: noted)
                await again.close()
            }
        }
    }

    @Test func anRDBBaseReplacedInTheBucketAfterTheCheckIsNotUsed() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "rdbchanged") { objects in
                let archive = try await Self.rdbArchive(lab)
                let bucket = try await Self.copy(archive, to: objects, "rdbchanged")
                // One byte of the middle changed: the RDB's CRC-64 alone would only see it at the end.
                let spoil: @Sendable ([UInt8]) -> [UInt8] = { bytes in
                    var changed = bytes
                    changed[bytes.count / 2] ^= 0xFF
                    return changed
                }

                let (spooled, loaded, notes) = try await Self.loadAfterReplacingTheBase(bucket, spoolCapacity: nil, into: "spooled", lab: lab, spoil: spoil)
                #expect(notes.isEmpty, "\(notes)")
                #expect(try loaded.get().applied == 3000)
                #expect(try await spooled.send(["DBSIZE"]).int == 3000)
                await spooled.close()

                let (again, failed, noted) = try await Self.loadAfterReplacingTheBase(bucket, spoolCapacity: 1000, into: "again", lab: lab, spoil: spoil)
                try await Self.expectChangedBase(failed, bucket, notes: noted)
                #expect(try await again.send(["DBSIZE"]).int == 0, "nothing of the changed base was sent")
                await again.close()
            }
        }
    }

    @Test func ctrlCWhileASpooledBaseLoadsStopsThereAndFreesTheSpool() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "aofstop") { objects in
                let archive = try HandMadeArchive(root: try restoreTemporaryFolder("archive", in: lab), perChunk: [10], valueBytes: 100,
                                                  keys: 3000, baseCommands: 3000, baseValueBytes: 1000)
                let bucket = try await Self.copy(archive.root, to: objects, "aofstop")
                let spoolFolder = try restoreTemporaryFolder("spool", in: lab)
                let server = try await lab.start("target")
                let c = try await RedisConnection.connect(server.connectionConfiguration)
                let canceller = RestoreInterruptTests.Canceller()
                let progress = canceller.progress { $0.phase == .base && $0.done > 0 }
                let options = Self.options(spoolFolder: spoolFolder)
                let result = await canceller.run {
                    try await Restore.run(archive: bucket, target: .latest, destination: .connection(c, name: "target", scratch: lab),
                                          options: options, progress: progress)
                }
                let report = try result.get()
                #expect(report.outcome.interrupted)
                #expect(report.outcome.stopReason.contains("while loading the base"), "\(report.outcome.stopReason)")
                let keys = try await c.send(["DBSIZE"]).int ?? -1
                #expect(keys > 0 && keys < 3001, "stopped part-way through the base: \(keys) keys")
                let checking = canceller.seen.withLock { $0 }.filter { $0.phase == .checking }
                #expect(checking.count > 2, "the check reports progress while it spools the base")
                #expect(openSpoolFiles(in: spoolFolder).isEmpty)
                await c.close()
            }
        }
    }

    /// A `replay-until --into` of an archive whose AOF base is 131 MB (2,000 SETs of 64 KB
    /// values), from a bucket, by the redkeep executable, stays under 100 MB of resident
    /// memory: the base is spooled and read back a block at a time, never held whole.
    @Test func anAOFBaseOfMoreThan100MBFromABucketIsRestoredInUnder100MB() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "largebase") { objects in
                let archive = try HandMadeArchive(root: try restoreTemporaryFolder("archive", in: lab), perChunk: [10], valueBytes: 100,
                                                  baseCommands: 2000, baseValueBytes: 64 * 1024)
                let base = try #require(try ArchiveIndex.read(archive.root).generations.first)
                #expect(base.format == .aof && base.size > 130_000_000)
                _ = try await Self.copy(archive.root, to: objects, "largebase")
                let target = try await lab.start("target")
                let script = "connect t 127.0.0.1:\(target.port); replay-until now --archive s3://largebase/archive/ --s3-endpoint \(objects.endpoint) --into t --flush"
                let run = try RestoreBoundedMemoryTests.peakMemory(script, environment: S3ArchiveStoreTests.environment(objects))
                #expect(run.status == 0, "\(run.output)")
                #expect(run.megabytes < 100, "peak resident memory \(run.megabytes) MB restoring a base of \(base.size) bytes from a bucket")
                let c = try await RedisConnection.connect(target.connectionConfiguration)
                #expect(try await c.send(["DBSIZE"]).int == 111)
                #expect(try await c.send(["STRLEN", "b99"]).int == 64 * 1024)
                await c.close()
            }
        }
    }
}
