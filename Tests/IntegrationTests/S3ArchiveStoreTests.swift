import Foundation
@testable import Operations
import S3
import Testing

/// The bucket archive store against a real SeaweedFS: the store contract every archive
/// store keeps, the lease between writers, index epochs, and how failures are named.
@Suite struct S3ArchiveStoreTests {
    /// Runs `body` with a fresh store's bucket opened as an archive location.
    func withArchive<T: Sendable>(prefix: String = "archives/one/", _ body: @escaping @Sendable (LocalObjectStore, S3ArchiveStore) throws -> T) async throws -> T {
        try await withLocalObjectStore(bucket: "redkeep-archive") { objects in
            let store = try Self.open(objects, "s3://redkeep-archive/\(prefix)")
            return try await ArchiveIO.run { try body(objects, store) }
        }
    }

    /// Opens a location the way the shell does: endpoint argument, credentials in the environment.
    static func open(_ objects: LocalObjectStore, _ location: String) throws -> S3ArchiveStore {
        let store = try ArchiveStores.open(location, s3Endpoint: objects.endpoint.description, environment: environment(objects))
        return try #require(store as? S3ArchiveStore)
    }

    static func environment(_ objects: LocalObjectStore) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": objects.credentials.accessKeyID,
         "AWS_SECRET_ACCESS_KEY": objects.credentials.secretAccessKey.revealed,
         "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"]
    }

    @Test func aBucketKeepsTheContract() async throws {
        try await withArchive { _, store in try ArchiveStoreContract.check(store) }
    }

    @Test func aBucketWithoutPrefixKeepsTheContract() async throws {
        try await withArchive(prefix: "") { _, store in try ArchiveStoreContract.check(store) }
    }

    @Test func aLiveLeaseRefusesNamingItsHolderAndAnExpiredOneIsTakenOver() async throws {
        try await withArchive { _, store in
            let first = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "lease"))
            let refused = try #require(throws: ArchiveError.self) { _ = try store.openIndexWriter(creating: nil) }
            #expect(refused.kind == .locked)
            #expect(refused.message.contains(ProcessInfo.processInfo.hostName) && refused.message.contains("lease.json"), "\(refused)")
            // A writer that died leaves its lease to expire: write an expired one in its place.
            first.close()
            let dead = #"{"holder":"gone:1:dead","expires_at":1000}"#
            try store.write("lease.json", bytes: Array(dead.utf8), replacing: true)
            let second = try store.openIndexWriter(creating: nil)
            try second.append(.mark(.init(name: "after-takeover", key: "k", at: Double(5), stream: nil)))
            second.close()
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == ["after-takeover"])
            #expect(try store.read("lease.json") == nil, "close() gives the lease back")
        }
    }

    @Test func aLiveLeaseLeftUnderTheWritersOwnIdIsTakenBackAndNoOneElses() async throws {
        try await withArchive { _, store in
            let first = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "own-lease"))
            first.close()
            // An earlier attempt of one uploader took the lease and could not give it back
            // (the store went away): a live lease under that uploader's id.
            let live = Date().timeIntervalSince1970 + 600
            try store.write("lease.json", bytes: Array(#"{"holder":"uploader-7","expires_at":\#(live)}"#.utf8), replacing: true)
            let other = try #require(throws: ArchiveError.self) { _ = try store.holdingLeases(as: "uploader-8").openIndexWriter(creating: nil) }
            #expect(other.kind == .locked && other.message.contains("uploader-7"), "\(other)")
            let same = try store.holdingLeases(as: "uploader-7").openIndexWriter(creating: nil)
            try same.append(.mark(.init(name: "taken-back", key: "k", at: Double(1), stream: nil)))
            same.close()
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == ["taken-back"])
            #expect(try store.read("lease.json") == nil, "close() gives the lease back")
        }
    }

    @Test func aWriterThatLostItsLeaseCannotPublishOverTheNewHolder() async throws {
        try await withArchive { _, store in
            let stale = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "fence"))
            // Its lease expires (it stalled): another writer takes over and publishes.
            try store.write("lease.json", bytes: Array(#"{"holder":"stalled","expires_at":1000}"#.utf8), replacing: true)
            let next = try store.openIndexWriter(creating: nil)
            try next.append(.mark(.init(name: "new", key: "k", at: Double(2), stream: nil)))
            let fenced = try #require(throws: ArchiveError.self) { try stale.append(.mark(.init(name: "stale", key: "k", at: Double(3), stream: nil))) }
            #expect(fenced.kind == .locked, "\(fenced)")
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == ["new"])
            next.close()
        }
    }

    @Test func replacingTheIndexStartsANewEpochAndRemovesTheOldSegments() async throws {
        try await withArchive { _, store in
            let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "epochs"))
            for n in 0..<20 { try writer.append(.mark(.init(name: "m\(n)", key: "k", at: Double(n), stream: nil))) }
            #expect(try store.list(prefix: "index/000001/").count == 20)
            try writer.replaceAll(with: [.mark(.init(name: "kept", key: "k", at: Double(1), stream: nil))])
            try writer.append(.mark(.init(name: "after", key: "k", at: Double(2), stream: nil)))
            #expect(try store.list(prefix: "index/000001/").isEmpty)
            #expect(Set(try store.list(prefix: "index/")) == ["index/current.json", "index/000002/000000000001.jsonl", "index/000002/000000000002.jsonl"])
            writer.close()
            // A new writer continues the current epoch's numbering.
            let again = try store.openIndexWriter(creating: nil)
            try again.append(.mark(.init(name: "later", key: "k", at: Double(3), stream: nil)))
            again.close()
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == ["kept", "after", "later"])
        }
    }

    @Test func aPrefixHoldingOtherObjectsIsNotMadeAnArchive() async throws {
        try await withArchive { _, store in
            try store.write("notes.txt", bytes: Array("not an archive".utf8))
            let refused = try #require(throws: ArchiveError.self) {
                _ = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "x"))
            }
            #expect(refused.kind == .notAnArchive && refused.message.contains("notes.txt"), "\(refused)")
        }
    }

    @Test func failuresNameTheEndpointBucketAndKeyButNeverTheSecret() async throws {
        try await withLocalObjectStore(bucket: "redkeep-archive") { objects in
            let secret = objects.credentials.secretAccessKey.revealed
            var wrong = Self.environment(objects)
            wrong["AWS_SECRET_ACCESS_KEY"] = "WRONG" + secret.dropFirst(5)
            let denied = try ArchiveStores.open("s3://redkeep-archive/a/", s3Endpoint: objects.endpoint.description, environment: wrong)
            let refused = try await #require(throws: ArchiveError.self) { try await ArchiveIO.run { () throws(ArchiveError) in _ = try denied.readIndex() } }
            #expect(refused.kind == .refused)
            #expect(refused.message.contains("s3://redkeep-archive/a/archive.json") && refused.message.contains(objects.endpoint.description), "\(refused)")

            let noBucket = try ArchiveStores.open("s3://no-such-bucket/a/", s3Endpoint: objects.endpoint.description, environment: Self.environment(objects))
            let missing = try await #require(throws: ArchiveError.self) { try await ArchiveIO.run { () throws(ArchiveError) in _ = try noBucket.readIndex() } }
            #expect(missing.kind == .refused && missing.message.contains("no-such-bucket"), "\(missing)")

            let nowhere = try ArchiveStores.open("s3://redkeep-archive/a/", s3Endpoint: "http://127.0.0.1:1", environment: Self.environment(objects))
            let unreachable = try await #require(throws: ArchiveError.self) { try await ArchiveIO.run { () throws(ArchiveError) in _ = try nowhere.readIndex() } }
            #expect(unreachable.kind == .unreachable && unreachable.message.contains("127.0.0.1:1"), "\(unreachable)")

            for error in [refused, missing, unreachable] { #expect(!error.message.contains(secret) && !error.message.contains(secret.dropFirst(5))) }
        }
    }

    @Test func aCorruptedObjectIsDamagedWhenChecked() async throws {
        try await withArchive { _, store in
            let key = ArchiveLayout.chunkPath(stream: 1, offset: 0)
            let info = try store.write(key, bytes: Array(repeating: 7, count: 1000))
            try store.write(key, bytes: Array(repeating: 8, count: 1000), replacing: true)
            let chunk = ArchiveRecord.Chunk(stream: 1, offset: 0, length: 1000, sha256: info.sha256, path: key, commands: 0,
                                            firstTimestamp: nil, lastTimestamp: nil, copiedAt: 1)
            let damaged = try #require(throws: ArchiveError.self) { _ = try ArchiveObjectCheck.chunk(chunk, in: store) }
            #expect(damaged.kind == .damaged && damaged.message.contains("s3://redkeep-archive/archives/one/\(key)"), "\(damaged)")
        }
    }
}

/// How the index is read from a bucket: all of its segments, in order, in batches that
/// grow, and its failures named by the first key asked for.
@Suite struct S3IndexReadTests {
    @Test func anIndexOfManySegmentsIsReadWholeAndInOrder() async throws {
        try await S3ArchiveStoreTests().withArchive { _, store in
            let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "many"))
            // 8, then 16, then 32 at once: 61 segments cross both growth steps and end
            // inside the third batch.
            for n in 0..<61 { try writer.append(.mark(.init(name: "m\(n)", key: "k", at: Double(n), stream: nil))) }
            writer.close()
            #expect(try store.list(prefix: "index/000001/").count == 61)
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == (0..<61).map { "m\($0)" })
        }
    }

    @Test func anIndexOfExactlyOneBatchEndsAtTheFirstMissingSegment() async throws {
        try await S3ArchiveStoreTests().withArchive { _, store in
            let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "eight"))
            for n in 0..<8 { try writer.append(.mark(.init(name: "m\(n)", key: "k", at: Double(n), stream: nil))) }
            writer.close()
            #expect(try ArchiveIndex.read(store).marks.map(\.name) == (0..<8).map { "m\($0)" })
        }
    }

    @Test func aLocationWithoutAnArchiveReadsAsNone() async throws {
        try await S3ArchiveStoreTests().withArchive(prefix: "empty/") { _, store in
            let index = try store.readIndex()
            #expect(index == nil)
        }
    }
}
