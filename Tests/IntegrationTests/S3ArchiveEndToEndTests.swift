import Foundation
import Operations
import RESP
import RedisClient
import S3
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The collector writing straight into a bucket (`--archive s3://...`) through rewrites,
/// against a real redis-server and a real SeaweedFS: the archive verifies, restoring
/// everything equals the live server, `archive copy` carries it to a folder and back
/// byte for byte, and restores from the bucket equal restores from the folder.
@Suite(.serialized) struct S3ArchiveEndToEndTests {
    @Test func theCollectorArchivesIntoABucketAndRestoresFromIt() async throws {
        try await withLab { lab in
            let objects = try await lab.startObjectStore("objects")
            // The collector resolves credentials the way every S3 tool does: from the environment.
            S3TestEnvironment.point(at: objects)
            let endpoint = objects.endpoint.description
            let location = "s3://redkeep/collected/"
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            var options = CollectorOptions(archive: location, chunkSize: 2048, pause: .zero, interval: .milliseconds(100), rate: nil)
            options.s3Endpoint = endpoint
            let collector = try await Collector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }
            try await Task.sleep(for: .milliseconds(500))
            let s = try await RestoreScenario.write(on: server, archive: location, steps: 7) {}
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            let live = try await restoreContents(source)
            try await Task.sleep(for: .milliseconds(800))
            collector.requestStop()
            await running.value
            #expect(collector.status().errors == 0, "\(collector.status().lastError ?? "")")

            let bucket = try ArchiveStores.open(location, s3Endpoint: endpoint)
            let index = try await ArchiveIO.run { try ArchiveIndex.read(bucket) }
            #expect(index.generations.count >= 3, "the scenario's rewrites made generations")
            #expect(try await ArchiveIO.run { try ArchiveVerifyResult.run(index).isSound })

            let target = try await lab.start("target")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            func restore(_ store: any ArchiveStore, _ t: ReplayTarget) async throws -> [String: String] {
                _ = try await Restore.run(archive: store, target: t, destination: .connection(c, name: "target", scratch: lab),
                                          options: RestoreOptions(flush: true))
                return try await restoreContents(c)
            }
            #expect(try await restore(bucket, .latest) == live, "everything archived equals the live server")

            // There and back: bucket -> folder -> another prefix of the bucket.
            let folder = try restoreTemporaryFolder("copied", in: lab) + "/archive"
            let local = try ArchiveStores.open(folder)
            let back = try ArchiveStores.open("s3://redkeep/copied-back/", s3Endpoint: endpoint)
            let out = try await ArchiveIO.run { try ArchiveCopy.run(from: bucket, to: local) }
            let home = try await ArchiveIO.run { try ArchiveCopy.run(from: local, to: back) }
            #expect(out.objects == index.generations.count + index.chunks.count && home.objects == out.objects && home.bytes == out.bytes)
            try await ArchiveIO.run {
                let keys = try bucket.list(prefix: "").filter(ArchiveLayout.isDataObject).sorted()
                #expect(keys.count == out.objects)
                #expect(try local.list(prefix: "").filter(ArchiveLayout.isDataObject).sorted() == keys)
                #expect(try back.list(prefix: "").filter(ArchiveLayout.isDataObject).sorted() == keys)
                for key in keys {
                    let original = try bucket.read(key)
                    #expect(try local.read(key) == original && back.read(key) == original, "\(key) differs after the copies")
                }
                #expect(try ArchiveIndex.read(local).records == index.records)
                #expect(try ArchiveIndex.read(back).records == index.records)
            }
            // A destination holding anything is refused.
            let refused = try await #require(throws: ArchiveError.self) { try await ArchiveIO.run { () throws(ArchiveError) in _ = try ArchiveCopy.run(from: local, to: back) } }
            #expect(refused.kind == .invalidRequest && refused.message.contains("s3://redkeep/copied-back"), "\(refused)")

            // Point-in-time restores from the bucket equal those from the folder (and the source's past).
            for second in s.seconds {
                let fromBucket = try await restore(bucket, .time(second: second, inclusive: true))
                let fromFolder = try await restore(local, .time(second: second, inclusive: true))
                #expect(fromBucket == fromFolder && fromBucket == s.expected[second]!, "restore to \(second)")
            }
            await c.close()
            await source.close()
        }
    }
}

/// Points this process's AWS_* variables at a local store, as `start NAME --s3` does for
/// a session: the collector and the shell resolve credentials from the environment.
enum S3TestEnvironment {
    static func point(at objects: LocalObjectStore) {
        setenv("AWS_ACCESS_KEY_ID", objects.credentials.accessKeyID, 1)
        setenv("AWS_SECRET_ACCESS_KEY", objects.credentials.secretAccessKey.revealed, 1)
        setenv("AWS_CONFIG_FILE", "/nonexistent", 1)
        setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1)
        unsetenv("AWS_SESSION_TOKEN")
    }
}
