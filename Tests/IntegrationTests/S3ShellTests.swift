import Foundation
import Operations
import RESP
import RedisClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Archives in object storage through the redkeep executable: `start NAME --s3`, then
/// `chunk run`, `archive copy` both ways, `archive verify` and `replay-until --into` with
/// the session's own credentials; `stop`/`restart`/`servers` of the store; and the errors a
/// person meets (wrong keys, no bucket, no store, a damaged object) with their exit codes.
@Suite(.serialized) struct S3ShellTests {
    /// A redkeep process in the background, its output in files so it can be read as it runs.
    struct Background {
        let process: Process
        let outPath: String
        let errPath: String

        var out: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var err: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        /// Waits until `condition` holds, failing if the process ends first or after `timeout`.
        func wait(for what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await !condition() {
                guard process.isRunning else { throw LabError("redkeep exited (\(process.terminationStatus)) before \(what): \(out)\n\(err)") }
                guard ContinuousClock.now < deadline else { throw LabError("no \(what) within \(timeout): \(out)\n\(err)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// The test process's environment less every AWS_* variable (other suites set some),
    /// and no shared AWS files, so only what the session itself sets counts.
    static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") }
        environment["AWS_CONFIG_FILE"] = "/nonexistent"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
        return environment.merging(extra) { $1 }
    }

    static func startRedkeep(_ arguments: [String], in folder: String) throws -> Background {
        guard FileManager.default.isExecutableFile(atPath: RedkeepBinaryTests.binary) else {
            throw LabError("\(RedkeepBinaryTests.binary) is missing: build it with swift build --build-tests")
        }
        let outPath = folder + "/out.log", errPath = folder + "/err.log"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RedkeepBinaryTests.binary)
        process.arguments = arguments
        process.environment = cleanEnvironment()
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Background(process: process, outPath: outPath, errPath: errPath)
    }

    /// The value of the first `field:value` line of a report.
    static func field(_ name: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
    }

    /// The secret of a Lab store's identities file.
    static func secret(in identitiesFile: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: identitiesFile))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let identity = try #require((json["identities"] as? [[String: Any]])?.first)
        let credentials = try #require((identity["credentials"] as? [[String: Any]])?.first)
        return try #require(credentials["secretKey"] as? String)
    }

    static func credentialsEnvironment(_ store: LocalObjectStore, secret: String? = nil) -> [String: String] {
        ["AWS_ACCESS_KEY_ID": store.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": secret ?? store.credentials.secretAccessKey.revealed,
         "AWS_ENDPOINT_URL_S3": store.endpoint.description]
    }

    static func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "redkeep-s3shell-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func startS3ThenChunkRunCopyBothWaysVerifyReplayAndStop() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = folder + "/flow.rk"
        try """
            start store --s3
            start m --aof-timestamps --config enable-debug-command local --config appendfsync always
            SET a 1
            RPUSH l x y z
            echo collecting
            chunk run --archive s3://redkeep/m/ --chunk-size 1KB --interval 50ms --pause 0ms --rate 0
            archive verify s3://redkeep/m/
            archive copy s3://redkeep/m/ $1/copy
            archive copy $1/copy s3://redkeep/m2/
            archive verify $1/copy
            archive verify s3://redkeep/m2/
            start t --config enable-debug-command local
            replay-until now --archive s3://redkeep/m2/ --into t
            let live = @m DEBUG DIGEST
            let restored = @t DEBUG DIGEST
            echo digests $live $restored
            assert $live == $restored
            stop store
            servers
            restart store
            archive verify s3://redkeep/m/
            crash store
            archive verify s3://redkeep/m/
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let run = try Self.startRedkeep([script, folder], in: folder)
        defer { if run.process.isRunning { kill(run.process.processIdentifier, SIGKILL) } }

        // The session printed where its store is; its keys are in the store's identities file.
        try await run.wait(for: "the collector to start") { run.out.contains("collecting\n") }
        let endpoint = try #require(Self.field("endpoint", in: run.out))
        #expect(Self.field("url", in: run.out) == "s3://redkeep/")
        let secretFile = try #require(Self.field("secret_file", in: run.out))
        let secret = try Self.secret(in: secretFile)
        let accessKey = try #require(Self.field("access_key", in: run.out))
        let address = try #require(Self.field("address", in: run.out))
        let bucket = try S3ArchiveStore.open("s3://redkeep/m/", endpoint: endpoint, environment: Self.cleanEnvironment(
            ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secret]))

        // Writes while chunk run follows the AOF, then SIGTERM: it ships what is pending and the script goes on.
        let m = try await RedisConnection.connect(try RedisConnectionConfiguration(url: "redis://\(address)"))
        _ = try await m.pipeline((0..<300).map { ["SET", .string("k:\($0)"), .string(String(repeating: "v", count: $0))] })
        await m.close()
        try await run.wait(for: "a chunk in the bucket") {
            try await ArchiveIO.run { try bucket.list(prefix: "").contains { $0.hasPrefix("stream-") && $0.hasSuffix(".chunk") } }
        }
        kill(run.process.processIdentifier, SIGTERM)
        try await run.wait(for: "the script to end", timeout: .seconds(120)) { !run.process.isRunning }

        let out = run.out, err = run.err
        // It ends with the last statement: the crashed store is unreachable, exit 2, naming endpoint, bucket and key.
        #expect(run.process.terminationStatus == 2, "\(out)\n\(err)")
        #expect(err.contains("archive verify: cannot GET s3://redkeep/m/archive.json at \(endpoint): connection refused"), "\(err)")
        #expect(out.components(separatedBy: "sound:yes\n").count - 1 == 4, "verify of the bucket, the folder, the copy back, and after restart: \(out)")
        #expect(out.contains("to:\(folder)/copy\n") && out.contains("to:s3://redkeep/m2/\n"), "\(out)")
        let digests = try #require(out.split(separator: "\n").first { $0.hasPrefix("digests ") }).split(separator: " ")
        #expect(digests.count == 3 && digests[1] == digests[2] && digests[1] != Substring(String(repeating: "0", count: 40)), "\(digests)")
        // stop waited for the store, kept its folder, and servers shows it stopped; restart found the objects
        // (the fourth sound verify), on the same endpoint.
        #expect(out.contains("stopped:store\n") && out.contains("was_running:yes\n"), "\(out)")
        #expect(out.contains("2.name:store\n2.kind:object store\n2.address:\(endpoint)\n2.running:no\n"), "\(out)")
        #expect(!out.contains(secret) && !err.contains(secret), "the secret was printed")
        // The run's end stopped every process it started (weed, before and after restart, and the servers) and removed the store's folder.
        for line in out.split(separator: "\n") where line.hasPrefix("pid:") {
            let pid = try #require(Int32(line.dropFirst(4)))
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "process \(pid) outlived the run")
        }
        #expect(!FileManager.default.fileExists(atPath: secretFile), "the store's folder outlived the run")
    }

    /// An archive in a bucket of a store this test runs, with every error a person meets.
    @Test func wrongKeysNoBucketNoStoreAndADamagedObjectExitWithClearMessages() async throws {
        try await withLab { lab in
            let objects = try await lab.startObjectStore("objects")
            let endpoint = objects.endpoint.description
            let secret = objects.credentials.secretAccessKey.revealed
            let good = Self.credentialsEnvironment(objects)
            let source = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("aof-disable-auto-gc", "yes"), ("appendfsync", "always")]))
            let folder = try restoreTemporaryFolder("archive", in: lab)
            let builder = try RestoreArchiveBuilder(root: folder, serverDirectory: source.directory)
            builder.chunkBytes = 1024
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            _ = try await c.pipeline((0..<200).map { ["SET", .string("k:\($0)"), "value"] })
            await c.close()
            try builder.collect()
            let bucket = try S3ArchiveStore.open("s3://redkeep/e/", endpoint: endpoint, environment: Self.cleanEnvironment(good))
            _ = try await ArchiveIO.run { try ArchiveCopy.run(from: LocalArchiveStore(root: folder), to: bucket) }

            func redkeep(_ command: String, _ environment: [String: String]) throws -> RedkeepBinaryTests.Run {
                try RedkeepBinaryTests.redkeep(["-c", command], environment: Self.cleanEnvironment(environment))
            }
            func expectNoSecret(_ run: RedkeepBinaryTests.Run, _ secrets: String...) {
                for s in secrets { #expect(!run.out.contains(s) && !run.err.contains(s), "a secret was printed: \(run.err)") }
            }
            let sound = try redkeep("archive verify s3://redkeep/e/", good)
            #expect(sound.status == 0 && sound.out.contains("sound:yes"), "\(sound.out)\(sound.err)")

            // Wrong secret: refused (3), naming the endpoint, the object and the access key, never either secret.
            let wrongSecret = "WRONG" + String(secret.dropFirst(5))
            let wrong = Self.credentialsEnvironment(objects, secret: wrongSecret)
            for command in ["archive verify s3://redkeep/e/", "archive copy s3://redkeep/e/ \(folder)-copy-1"] {
                let run = try redkeep(command, wrong)
                #expect(run.status == 3, "\(command): \(run.err)")
                #expect(run.err.contains("cannot GET s3://redkeep/e/archive.json at \(endpoint)")
                        && run.err.contains("the secret access key is not the one of access key \(objects.credentials.accessKeyID)"), "\(run.err)")
                expectNoSecret(run, secret, wrongSecret)
            }
            // A bucket that does not exist: refused (3), naming it.
            for command in ["archive verify s3://nobucket/e/", "archive copy s3://redkeep/e/ s3://nobucket/e/"] {
                let run = try redkeep(command, good)
                #expect(run.status == 3, "\(command): \(run.err)")
                #expect(run.err.contains("s3://nobucket/e/archive.json at \(endpoint): the bucket does not exist"), "\(run.err)")
                expectNoSecret(run, secret)
            }
            // No store at the endpoint: a connection failure (2), naming endpoint and key; chunk run too.
            let port = try freePortForTest()
            let nowhere = "http://127.0.0.1:\(port)"
            let collecting = try await lab.start("collected", LocalServerOptions(appendOnly: true))
            for command in ["archive verify s3://redkeep/e/ --s3-endpoint \(nowhere)",
                            "archive copy s3://redkeep/e/ \(folder)-copy-2 --s3-endpoint \(nowhere)",
                            "connect s 127.0.0.1:\(collecting.port); chunk run --archive s3://redkeep/c/ --s3-endpoint \(nowhere) --spool \(folder)-spool"] {
                let run = try redkeep(command, good)
                #expect(run.status == 2, "\(command): \(run.err)")
                #expect(run.err.contains("cannot GET s3://redkeep/") && run.err.contains("archive.json at \(nowhere): connection refused"), "\(run.err)")
                expectNoSecret(run, secret)
            }

            // One byte of a chunk changed in the bucket: damaged (3), naming the object, for verify, copy and restore.
            let key = try #require(try await ArchiveIO.run { try bucket.list(prefix: "stream-").sorted().first })
            var bytes = try #require(try await ArchiveIO.run { try bucket.read(key) })
            bytes[bytes.count / 2] ^= 0x01
            let damaged = bytes
            _ = try await ArchiveIO.run { try bucket.write(key, bytes: damaged, replacing: true) }
            let target = try await lab.start("target")
            for command in ["archive verify s3://redkeep/e/", "archive copy s3://redkeep/e/ \(folder)-copy-3",
                            "connect t 127.0.0.1:\(target.port); replay-until now --archive s3://redkeep/e/ --into t"] {
                let run = try redkeep(command, good)
                #expect(run.status == 3, "\(command): \(run.err)")
                #expect(run.err.contains("chunk s3://redkeep/e/\(key) (stream 1 bytes ") && run.err.contains("does not match its sha256"), "\(command): \(run.err)")
                expectNoSecret(run, secret)
            }
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            #expect(try await t.send(["DBSIZE"]) == .integer(0), "nothing was written to the target")
            await t.close()
            for n in 1...3 { try? FileManager.default.removeItem(atPath: "\(folder)-copy-\(n)") }
            try? FileManager.default.removeItem(atPath: "\(folder)-spool")
        }
    }
}
