import Foundation
import Operations
import RESP
import RedisClient
import S3
import Testing

/// The collector shipping to a bucket through its spool while the object store goes away
/// for 10 seconds and comes back, with writes going on: copying never stops, the backlog
/// grows in `chunk status` and drains once the store is back, and the bucket then holds
/// the whole history without a gap: restoring it equals the live server.
@Suite(.serialized) struct S3ForwardingTests {
    @Test func anObjectStoreOutageOnlyGrowsTheBacklog() async throws {
        try await withLab { lab in
            let objects = try await lab.startObjectStore("objects")
            S3TestEnvironment.point(at: objects)
            let endpoint = objects.endpoint.description
            let location = "s3://redkeep/forwarded/"
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            let spool = try restoreTemporaryFolder("spool", in: lab)
            var options = CollectorOptions(archive: location, chunkSize: 4096, pause: .zero, interval: .milliseconds(100), rate: nil)
            options.s3Endpoint = endpoint
            options.spool = spool
            let collector = try await Collector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }

            let writing = StopFlagBox()
            let writer = Task.detached { () async throws -> Int in
                let c = try await RedisConnection.connect(server.connectionConfiguration)
                var n = 0
                while !writing.isSet {
                    _ = try await c.send(["SET", .string("key:\(n % 500)"), .string("value \(n)")])
                    _ = try await c.send(["INCR", "counter"])
                    n += 1
                    if n % 50 == 0 { try await Task.sleep(for: .milliseconds(10)) }
                }
                await c.close()
                return n
            }
            // Connected before the outage (a bounded wait: a loaded machine may take more
            // than a second to open the bucket's index).
            let opening = ContinuousClock.now
            while collector.status().upload?.connected != true && ContinuousClock.now - opening < .seconds(30) {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(collector.status().upload?.connected == true, "\(String(describing: collector.status().upload))")
            try await Task.sleep(for: .seconds(1))

            // The store goes away for 10 seconds while the writes go on.
            try await lab.stopObjectStore("objects")
            let outage = ContinuousClock.now
            var largestBacklog = 0
            var sawError = false
            while ContinuousClock.now - outage < .seconds(10) {
                let upload = try #require(collector.status().upload)
                largestBacklog = max(largestBacklog, upload.backlogObjects)
                sawError = sawError || upload.lastError != nil
                try await Task.sleep(for: .milliseconds(200))
            }
            let during = collector.status()
            #expect(largestBacklog > 5 && sawError, "the backlog grows while the store is down: \(String(describing: during.upload))")
            #expect(during.upload?.lastError?.contains(endpoint) == true, "\(String(describing: during.upload?.lastError))")
            #expect(during.errors == 0, "copying from the AOF never failed: \(during.lastError ?? "")")
            #expect(!ArchiveLayoutCheck.dataObjects(in: spool).isEmpty, "the backlog waits in the spool")

            _ = try await lab.restartObjectStore("objects")
            // Drained once the store is back (bounded wait, not a timing assertion).
            let back = ContinuousClock.now
            while (collector.status().upload?.backlogObjects ?? 0) > 0 && ContinuousClock.now - back < .seconds(60) {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(collector.status().upload?.backlogObjects == 0, "\(String(describing: collector.status().upload))")
            writing.set()
            let writes = try await writer.value
            #expect(writes > 0)
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            let live = try await restoreContents(source)
            try await Task.sleep(for: .milliseconds(500))
            collector.requestStop()
            await running.value
            let final = collector.status()
            #expect(final.errors == 0 && final.upload?.backlogObjects == 0 && final.upload?.lastError == nil, "\(final)")
            #expect(ArchiveLayoutCheck.dataObjects(in: spool).isEmpty, "shipped chunks leave the spool")

            let bucket = try ArchiveStores.open(location, s3Endpoint: endpoint)
            let index = try await ArchiveIO.run { try ArchiveIndex.read(bucket) }
            #expect(index.gaps.isEmpty, "no gap: \(index.gaps)")
            #expect(try await ArchiveIO.run { try ArchiveVerifyResult.run(index).isSound })
            // Every chunk uploaded once: as many objects in the bucket as chunks recorded.
            let stored = try await ArchiveIO.run { try bucket.list(prefix: "stream-") }
            #expect(stored.count == index.chunks.count)

            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            _ = try await Restore.run(archive: bucket, target: .latest, destination: .connection(c, name: "target", scratch: lab),
                                      options: RestoreOptions(flush: true))
            #expect(try await restoreContents(c) == live)
            await c.close()
            await source.close()
        }
    }
}

/// A flag set by one task and read by another.
final class StopFlagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// The archive objects (chunks, bases) in a local folder.
enum ArchiveLayoutCheck {
    static func dataObjects(in folder: String) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).filter(ArchiveLayout.isDataObject)
    }
}
