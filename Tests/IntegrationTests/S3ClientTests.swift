import Crypto
import Foundation
import NIOCore
import Operations
import S3
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The S3 client against a real SeaweedFS (`weed mini`) started on free ports for each
/// test, with SigV4 enforced: objects, ranges, listings, conditional writes, multipart
/// uploads, and every way a request fails.
@Suite struct S3ClientTests {
    /// Runs `body` with a fresh store and a client for its bucket, stopping both afterwards.
    func withStore<T: Sendable>(_ tune: (inout S3Configuration) -> Void = { _ in },
                                _ body: (LocalObjectStore, S3Client) async throws -> T) async throws -> T {
        try await withLocalObjectStore(bucket: "redkeep-test") { store in
            var configuration = store.configuration
            tune(&configuration)
            return try await S3Client.withClient(configuration, bucket: "redkeep-test") { client in
                try await body(store, client)
            }
        }
    }

    static func randomBytes(_ count: Int) -> ByteBuffer {
        let random = FileHandle(forReadingAtPath: "/dev/urandom")!
        defer { try? random.close() }
        return ByteBuffer(bytes: random.readData(ofLength: count))
    }

    @Test func objectsRoundTripWholeAndByRange() async throws {
        try await withStore { store, client in
            let body = Self.randomBytes(100_000)
            let put = try await client.putObject("chunks/0001", body)
            #expect(put.size == 100_000)
            #expect(put.parts == 1)
            #expect(put.etag.count == 32)
            #expect(try await client.getObject("chunks/0001") == body)
            #expect(try await client.getObject("chunks/0001", range: 10..<20) == body.getSlice(at: 10, length: 10))
            #expect(try await client.getObject("chunks/0001", range: 99_990..<100_000) == body.getSlice(at: 99_990, length: 10))
            #expect(try await client.getObject("chunks/0001", range: 0..<100, expectedSHA256: S3Tests.sha256(body.getSlice(at: 0, length: 100)!))
                    == body.getSlice(at: 0, length: 100))

            let info = try #require(try await client.headObject("chunks/0001"))
            #expect(info.size == 100_000)
            #expect(info.etag == put.etag)
            #expect(try await client.headObject("chunks/none") == nil)

            // Keys with spaces, '$', '+' and non-ASCII go through encoded once.
            let odd = "odd/a b+c$d=é ሴ.bin"
            try await client.putObject(odd, ByteBuffer(string: "odd"))
            #expect(try await client.getObject(odd) == ByteBuffer(string: "odd"))

            let wrongDigest = try await #require(throws: S3Error.self) {
                _ = try await client.getObject("chunks/0001", range: 0..<100, expectedSHA256: String(repeating: "0", count: 64))
            }
            #expect(wrongDigest.kind == .corrupt)
            #expect(wrongDigest.description.contains("s3://redkeep-test/chunks/0001"))
            #expect(wrongDigest.description.contains("(bytes 0-99)"))

            let beyond = try await #require(throws: S3Error.self) { _ = try await client.getObject("chunks/0001", range: 99_990..<100_010) }
            #expect(beyond.kind == .corrupt)
            #expect(beyond.description.contains("the object has 100000 bytes"))

            try await client.deleteObject("chunks/0001")
            #expect(try await client.headObject("chunks/0001") == nil)
            let gone = try await #require(throws: S3Error.self) { _ = try await client.getObject("chunks/0001") }
            #expect(gone.kind == .noSuchKey)
            #expect(gone.status == 404)
            #expect(gone.description.contains("cannot GET s3://redkeep-test/chunks/0001 at \(store.endpoint)"))
            // Deleting what is not there succeeds, as on S3.
            try await client.deleteObject("chunks/0001")
        }
    }

    @Test func listingFollowsPagesAndBatchDeletes() async throws {
        try await withStore { _, client in
            let keys = (0..<25).map { "list/item-\(String(format: "%03d", $0))" }
            for key in keys { try await client.putObject(key, ByteBuffer(string: key)) }
            try await client.putObject("other/x", ByteBuffer(string: "x"))

            let first = try await client.listObjects(prefix: "list/", maxKeys: 10)
            #expect(first.objects.map(\.key) == Array(keys[0..<10]))
            #expect(first.objects[0].size == keys[0].utf8.count)
            let token = try #require(first.continuationToken)
            let second = try await client.listObjects(prefix: "list/", continuationToken: token, maxKeys: 10)
            #expect(second.objects.map(\.key) == Array(keys[10..<20]))
            let secondToken = try #require(second.continuationToken)
            let third = try await client.listObjects(prefix: "list/", continuationToken: secondToken, maxKeys: 10)
            #expect(third.objects.map(\.key) == Array(keys[20..<25]))
            #expect(third.continuationToken == nil)

            #expect(try await client.listAllObjects(prefix: "list/", pageSize: 7).map(\.key) == keys)
            #expect(try await client.listAllObjects().count == 26)
            let tooMany = try await #require(throws: S3Error.self) { _ = try await client.listAllObjects(prefix: "list/", pageSize: 7, limit: 10) }
            #expect(tooMany.kind == .invalidArgument)
            let badPage = try await #require(throws: S3Error.self) { _ = try await client.listObjects(maxKeys: 0) }
            #expect(badPage.kind == .invalidArgument)

            try await client.deleteObjects(keys + ["list/never-existed"])
            #expect(try await client.listAllObjects(prefix: "list/").isEmpty)
            #expect(try await client.listAllObjects().map(\.key) == ["other/x"])
        }
    }

    @Test func conditionalPutRefusesAnExistingKey() async throws {
        try await withStore { store, client in
            try await client.putObject("lease", ByteBuffer(string: "collector A"), ifNoneMatch: true)
            let second = try await #require(throws: S3Error.self) {
                try await client.putObject("lease", ByteBuffer(string: "collector B"), ifNoneMatch: true)
            }
            #expect(second.kind == .preconditionFailed)
            #expect(second.status == 412)
            #expect(second.bucket == "redkeep-test")
            #expect(second.key == "lease")
            #expect(second.description.contains("s3://redkeep-test/lease at \(store.endpoint)"))
            #expect(second.description.contains("an object with this key exists already"))
            #expect(try await client.getObject("lease") == ByteBuffer(string: "collector A"))
            // Without the condition, the same key is overwritten.
            try await client.putObject("lease", ByteBuffer(string: "collector C"))
            #expect(try await client.getObject("lease") == ByteBuffer(string: "collector C"))
        }
    }

    @Test func wrongKeysAndMissingBucketsAreNamedWithoutTheSecret() async throws {
        try await withStore { store, client in
            try await client.putObject("k", ByteBuffer(string: "v"))
            let realSecret = store.credentials.secretAccessKey.revealed

            var wrongSecret = store.configuration
            wrongSecret.credentials.secretAccessKey = S3Secret("not-the-secret-9f8e7d")
            let denied = try await S3Client.withClient(wrongSecret, bucket: "redkeep-test") { other in
                try await #require(throws: S3Error.self) { _ = try await other.getObject("k") }
            }
            #expect(denied.kind == .accessDenied)
            #expect(denied.code == "SignatureDoesNotMatch")
            #expect(denied.description.contains("cannot GET s3://redkeep-test/k at \(store.endpoint)"))
            #expect(denied.description.contains(store.credentials.accessKeyID))
            #expect(!denied.description.contains("not-the-secret-9f8e7d"))
            #expect(!denied.description.contains(realSecret))
            #expect(!String(reflecting: denied).contains("not-the-secret-9f8e7d"))

            var unknownKey = store.configuration
            unknownKey.credentials.accessKeyID = "RKNOBODY"
            let unknown = try await S3Client.withClient(unknownKey, bucket: "redkeep-test") { other in
                try await #require(throws: S3Error.self) { try await other.putObject("k2", ByteBuffer(string: "v")) }
            }
            #expect(unknown.kind == .accessDenied)
            #expect(unknown.description.contains("the store does not know the access key RKNOBODY"))

            let missing = try await S3Client.withClient(store.configuration, bucket: "no-such-bucket") { other in
                #expect(try await other.bucketExists() == false)
                let get = try await #require(throws: S3Error.self) { _ = try await other.getObject("k") }
                #expect(get.kind == .noSuchBucket)
                let put = try await #require(throws: S3Error.self) { try await other.putObject("k", ByteBuffer(string: "v")) }
                #expect(put.kind == .noSuchBucket)
                return try await #require(throws: S3Error.self) { _ = try await other.listObjects() }
            }
            #expect(missing.kind == .noSuchBucket)
            #expect(missing.description.contains("s3://no-such-bucket at \(store.endpoint): the bucket does not exist"))
            #expect(try await client.bucketExists())
            // Creating a bucket one already owns is not an error.
            try await client.createBucket()
        }
    }

    @Test func multipartUploadRoundTripsByteForByte() async throws {
        try await withStore({ $0.partSize = 5 << 20; $0.multipartThreshold = 6 << 20 }) { _, client in
            let body = Self.randomBytes(12 << 20)
            let put = try await client.putObject("bases/big", body)
            #expect(put.parts == 3)
            #expect(put.size == 12 << 20)
            #expect(put.etag.hasSuffix("-3"))
            #expect(put.sha256 == S3Tests.sha256(body))
            #expect(try await client.headObject("bases/big")?.size == 12 << 20)
            #expect(try await client.getObject("bases/big") == body)
            let acrossParts = (5 << 20) - 100..<(5 << 20) + 100
            #expect(try await client.getObject("bases/big", range: acrossParts)
                    == body.getSlice(at: acrossParts.lowerBound, length: acrossParts.count))

            // The completion carries the condition: an existing key is not overwritten.
            let refused = try await #require(throws: S3Error.self) {
                try await client.putObject("bases/big", Self.randomBytes(7 << 20), ifNoneMatch: true)
            }
            #expect(refused.kind == .preconditionFailed)
            #expect(try await client.getObject("bases/big", range: 0..<1000) == body.getSlice(at: 0, length: 1000))
            // A failed upload leaves no object behind.
            #expect(try await client.listAllObjects(prefix: "bases/").map(\.key) == ["bases/big"])
        }
    }

    @Test func filesUploadInPartsAndObjectsStreamBack() async throws {
        let folder = NSTemporaryDirectory() + "redkeep-s3-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let large = Self.randomBytes((13 << 20) + 12345)
        let small = Self.randomBytes(1000)
        try Data(large.readableBytesView).write(to: URL(fileURLWithPath: folder + "/base.rdb"))
        try Data(small.readableBytesView).write(to: URL(fileURLWithPath: folder + "/small.bin"))

        try await withStore({ $0.partSize = 5 << 20; $0.multipartThreshold = 6 << 20 }) { store, client in
            let put = try await client.putObject("bases/base.rdb", contentsOfFile: folder + "/base.rdb")
            #expect(put.parts == 3)
            #expect(put.size == large.readableBytes)
            #expect(put.sha256 == S3Tests.sha256(large))
            let one = try await client.putObject("bases/small.bin", contentsOfFile: folder + "/small.bin", ifNoneMatch: true)
            #expect(one.parts == 1)
            #expect(try await client.getObject("bases/small.bin") == small)

            var streamed = ByteBuffer()
            var pieces = 0
            let count = try await client.getObject("bases/base.rdb") { piece in
                var piece = piece
                streamed.writeBuffer(&piece)
                pieces += 1
            }
            #expect(count == large.readableBytes)
            #expect(pieces > 1)
            #expect(streamed == large)

            var tail = ByteBuffer()
            let range = large.readableBytes - 5000..<large.readableBytes
            try await client.getObject("bases/base.rdb", range: range) { piece in
                var piece = piece
                tail.writeBuffer(&piece)
            }
            #expect(tail == large.getSlice(at: range.lowerBound, length: range.count))

            // The consumer's own error comes back as it was thrown.
            struct DiskFull: Error {}
            await #expect(throws: DiskFull.self) { try await client.getObject("bases/base.rdb") { _ in throw DiskFull() } }
            let missing = try await #require(throws: S3Error.self) { try await client.getObject("bases/none") { _ in } }
            #expect(missing.kind == .noSuchKey)
            #expect(missing.description.contains("s3://redkeep-test/bases/none at \(store.endpoint)"))

            let noFile = try await #require(throws: S3Error.self) {
                try await client.putObject("bases/x", contentsOfFile: folder + "/absent.rdb")
            }
            #expect(noFile.kind == .localFile)
            #expect(noFile.description.contains("cannot open \(folder)/absent.rdb: no such file or directory"))
            #expect(try await client.headObject("bases/x") == nil)
        }
    }

    @Test func prefetchingReaderKeepsOrderAndStopsAtACorruptPiece() async throws {
        try await withStore { _, client in
            var requests: [S3ReadRequest] = []
            var expected: [ByteBuffer] = []
            for index in 0..<12 {
                let body = Self.randomBytes(1000 + index * 3000)
                let key = "chunks/\(String(format: "%04d", index))"
                try await client.putObject(key, body)
                // Every other piece is a range of its object.
                let range = index % 2 == 0 ? nil : 100..<(700 + index)
                let piece = range.map { body.getSlice(at: $0.lowerBound, length: $0.count)! } ?? body
                requests.append(S3ReadRequest(key: key, range: range, sha256: S3Tests.sha256(piece)))
                expected.append(piece)
            }
            var read: [ByteBuffer] = []
            for try await piece in try S3PrefetchingReader(client: client, requests: requests, window: 3) { read.append(piece) }
            #expect(read == expected)

            var damaged = requests
            damaged[5].sha256 = String(repeating: "a", count: 64)
            var iterator = try S3PrefetchingReader(client: client, requests: damaged, window: 4).makeAsyncIterator()
            for index in 0..<5 { #expect(try await iterator.next() == expected[index]) }
            let corrupt = try await #require(throws: S3Error.self) { _ = try await iterator.next() }
            #expect(corrupt.kind == .corrupt)
            #expect(corrupt.description.contains("s3://redkeep-test/chunks/0005"))
            #expect(try await iterator.next() == nil)

            let missing = [requests[0], S3ReadRequest(key: "chunks/none")]
            var second = try S3PrefetchingReader(client: client, requests: missing, window: 2).makeAsyncIterator()
            #expect(try await second.next() == expected[0])
            await #expect(throws: S3Error.self) { _ = try await second.next() }
            #expect(throws: S3Error.self) { _ = try S3PrefetchingReader(client: client, requests: requests, window: 0) }
        }
    }

    @Test func unreachableAndSilentEndpointsFailWithinTheTimeout() async throws {
        let credentials = S3Credentials(accessKeyID: "RKANY", secretAccessKey: S3Secret("any-secret-1234"))
        let closed = try freePortForTest()
        let refused = S3Configuration(endpoint: try S3Endpoint(parsing: "http://127.0.0.1:\(closed)"), credentials: credentials,
                                      connectTimeout: .seconds(2), requestTimeout: .seconds(5))
        let unreachable = try await S3Client.withClient(refused, bucket: "redkeep-test") { client in
            try await #require(throws: S3Error.self) { _ = try await client.getObject("chunks/0001") }
        }
        #expect(unreachable.kind == .unreachable)
        #expect(unreachable.description == "cannot GET s3://redkeep-test/chunks/0001 at http://127.0.0.1:\(closed): connection refused")

        // A peer that accepts connections and never answers: the request timeout ends it.
        let silent = try SilentListener()
        defer { silent.close() }
        let quiet = S3Configuration(endpoint: try S3Endpoint(parsing: "http://127.0.0.1:\(silent.port)"), credentials: credentials,
                                    connectTimeout: .seconds(2), requestTimeout: .milliseconds(500))
        let timedOut = try await S3Client.withClient(quiet, bucket: "redkeep-test") { client in
            try await #require(throws: S3Error.self) { try await client.putObject("lease", ByteBuffer(string: "x"), ifNoneMatch: true) }
        }
        #expect(timedOut.kind == .timedOut)
        #expect(timedOut.description.contains("s3://redkeep-test/lease at http://127.0.0.1:\(silent.port): no complete answer within 0.5 seconds"))
        #expect(!timedOut.description.contains("any-secret-1234"))
    }

    @Test func aStoppedStoreIsAClearError() async throws {
        let store = try await LocalObjectStore.start(bucket: "redkeep-test")
        let client = try S3Client(configuration: store.configuration, bucket: "redkeep-test")
        do {
            try await client.putObject("chunks/0001", ByteBuffer(string: "before"))
            await store.kill()
            #expect(!store.isRunning)
            for attempt in ["GET", "PUT"] {
                let error = try await #require(throws: S3Error.self) {
                    if attempt == "GET" { _ = try await client.getObject("chunks/0001") } else {
                        try await client.putObject("chunks/0002", Self.randomBytes(1 << 20))
                    }
                }
                // The pooled connection may break, or a new one be refused.
                #expect(error.kind == .unreachable || error.kind == .connectionLost, "\(error)")
                #expect(error.description.contains("s3://redkeep-test/chunks/000"))
                #expect(error.description.contains("at \(store.endpoint)"))
            }
        } catch {
            await client.shutdown()
            await store.stop()
            throw error
        }
        await client.shutdown()
        await store.stop()
        #expect(!FileManager.default.fileExists(atPath: store.directory))
    }
}

/// SHA-256 helpers for the tests.
enum S3Tests {
    static func sha256(_ buffer: ByteBuffer) -> String {
        let digest = buffer.withUnsafeReadableBytes { SHA256.hash(data: $0) }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// A TCP listener that never accepts: connections complete (the kernel does that) and
/// requests are sent, but no answer ever comes.
final class SilentListener: Sendable {
    let port: Int
    private let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = self.fd
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard ok else { throw POSIXError(.EADDRINUSE) }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
