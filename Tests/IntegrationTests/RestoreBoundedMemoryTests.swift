import Foundation
import Operations
import RedisClient
import Testing

/// A restore's memory does not grow with the chunk size: `replay-until --into` of an
/// archive holding one chunk of more than 200 MB, from a folder and from a bucket, by the
/// redkeep executable, stays under 100 MB of resident memory (its peak, as
/// `/usr/bin/time` reports it).
@Suite(.serialized) struct RestoreBoundedMemoryTests {
    /// One chunk of 3,300 SETs of 64 KB values (216 MB) over 100 keys, then a small one.
    static func largeChunkArchive(in lab: Lab) throws -> HandMadeArchive {
        try HandMadeArchive(root: try restoreTemporaryFolder("large", in: lab), perChunk: [3300, 10], valueBytes: 64 * 1024)
    }

    /// Runs `redkeep -c script` under /usr/bin/time and returns its exit status, output and
    /// peak resident memory in MB.
    static func peakMemory(_ script: String, environment: [String: String] = [:]) throws -> (status: Int32, output: String, megabytes: Double) {
        guard FileManager.default.isExecutableFile(atPath: RedkeepBinaryTests.binary) else {
            throw LabError("\(RedkeepBinaryTests.binary) is missing: build it with swift build --build-tests")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "max-rss-kb %M", RedkeepBinaryTests.binary, "-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        let kb = output.split(separator: "\n").last { $0.hasPrefix("max-rss-kb ") }.flatMap { Double($0.dropFirst(11)) }
        return (process.terminationStatus, output, (kb ?? .infinity) / 1024)
    }

    @Test func aChunkOfMoreThan200MBFromAFolderIsRestoredInUnder100MB() async throws {
        try await withLab { lab in
            let archive = try Self.largeChunkArchive(in: lab)
            let large = try #require(try ArchiveIndex.read(archive.root).chunks.first)
            #expect(large.length > 200_000_000)
            let target = try await lab.start("target")
            let run = try Self.peakMemory("connect t 127.0.0.1:\(target.port); replay-until now --archive \(archive.root) --into t --flush")
            #expect(run.status == 0, "\(run.output)")
            #expect(run.megabytes < 100, "peak resident memory \(run.megabytes) MB restoring a chunk of \(large.length) bytes")
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            #expect(try await c.send(["DBSIZE"]).int == 101)
            #expect(try await c.send(["STRLEN", "k99"]).int == 64 * 1024)
            await c.close()
        }
    }

    @Test func aChunkOfMoreThan200MBFromABucketIsRestoredInUnder100MB() async throws {
        try await withLab { lab in
            try await withLocalObjectStore(bucket: "large") { objects in
                let archive = try Self.largeChunkArchive(in: lab)
                let bucket = try S3ArchiveStoreTests.open(objects, "s3://large/archive/")
                let local = archive.store
                _ = try await ArchiveIO.run { try ArchiveCopy.run(from: local, to: bucket) }
                let target = try await lab.start("target")
                let script = "connect t 127.0.0.1:\(target.port); replay-until now --archive s3://large/archive/ --s3-endpoint \(objects.endpoint) --into t --flush"
                let run = try Self.peakMemory(script, environment: S3ArchiveStoreTests.environment(objects))
                #expect(run.status == 0, "\(run.output)")
                #expect(run.megabytes < 100, "peak resident memory \(run.megabytes) MB restoring a chunk of more than 200 MB from a bucket")
                let c = try await RedisConnection.connect(target.connectionConfiguration)
                #expect(try await c.send(["DBSIZE"]).int == 101)
                await c.close()
            }
        }
    }
}
