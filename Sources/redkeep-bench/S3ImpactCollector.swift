import ArgumentParser
import Foundation
import Operations
#if canImport(Glibc)
import Glibc
#endif

/// The collector of an `s3-impact` run with shipping: `redkeep ... chunk run --archive
/// s3://...` as its own process (as a service manager runs it on the Redis host), pinned
/// like redis-server, and what it had shipped, read from its spool and from the bucket.
struct S3ImpactCollector {
    /// Objects (bases and chunks) and their bytes, in an index.
    struct Objects {
        var count = 0, bytes = 0

        init(_ index: ArchiveIndex?) {
            guard let index else { return }
            count = index.generations.count + index.chunks.count
            bytes = index.generations.reduce(0) { $0 + $1.size } + index.chunks.reduce(0) { $0 + $1.length }
        }
    }

    let process: Process
    let archive: String
    let spool: String
    let outputPath: String
    let remote: any ArchiveStore

    /// Starts `redkeep` collecting from the server on `port` into `archive` through the
    /// spool folder `spool` (shipping at `uploadPriority`, nil: the collector's default),
    /// and returns once the pipeline is up: the base of generation 1 has gone through the
    /// spool and is published in the bucket (at most 60 s).
    static func start(redkeep: String, port: Int, archive: String, endpoint: String, spool: String, chunkSize: Int,
                      intervalMilliseconds: Int, uploadPriority: String?, pinning: S3ImpactPinning, cpu: Int?) async throws -> S3ImpactCollector {
        // Opened first: nothing to clean up if the location is refused.
        let remote = try ArchiveStores.open(archive, s3Endpoint: endpoint)
        let outputPath = spool + ".out"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let script = "connect s 127.0.0.1:\(port); chunk run --archive \(archive) --s3-endpoint \(endpoint) --spool \(spool) "
            + "--chunk-size \(chunkSize / 1024)KB --interval \(intervalMilliseconds)ms"
            + (uploadPriority.map { " --upload-priority \($0)" } ?? "")
        let command = pinning.prefix(cpu) + [redkeep, "-c", script]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ExternalCommand.find(command[0]) ?? command[0])
        process.arguments = Array(command.dropFirst())
        process.standardInput = FileHandle.nullDevice
        let log = FileHandle(forWritingAtPath: outputPath)
        defer { try? log?.close() }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let collector = S3ImpactCollector(process: process, archive: archive, spool: spool, outputPath: outputPath, remote: remote)
        for _ in 0..<300 {
            guard process.isRunning else { throw ValidationError("the collector (\(script)) ended at its start: \(collector.output)") }
            if let index = try? await ArchiveIO.run({ try ArchiveIndex.read(remote) }), !index.generations.isEmpty { return collector }
            try await Task.sleep(for: .milliseconds(200))
        }
        collector.kill()
        throw ValidationError("the collector (\(script)) published no base in \(archive) within 60 s: \(collector.output)")
    }

    /// The process id (taskset execs redkeep in place).
    var pid: Int32 { process.processIdentifier }

    /// What it printed, shortened for messages.
    var output: String { String(((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "").suffix(600)) }

    /// What the bucket's index publishes now (read off the event loops: store calls block).
    func published() async throws -> Objects {
        let remote = remote
        return Objects(try await ArchiveIO.run { try ArchiveIndex.read(remote) })
    }

    /// What the bucket's index publishes now, and what the spool holds that it does not
    /// yet (the upload backlog).
    func shipped() async throws -> (published: Objects, backlog: Objects) {
        let published = try await published()
        let spool = spool
        let spooled = Objects(await ArchiveIO.run { try? ArchiveIndex.read(spool) })
        return (published, Objects(count: max(0, spooled.count - published.count), bytes: max(0, spooled.bytes - published.bytes)))
    }

    /// SIGTERM (the collector copies what is pending and ships its backlog), then waits up
    /// to 60 s for a clean exit.
    func stop() async throws {
        process.terminate()
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        guard !process.isRunning else {
            kill()
            throw ValidationError("the collector (pid \(pid)) did not stop within 60 s of SIGTERM: \(output)")
        }
        guard process.terminationStatus == 0 else {
            throw ValidationError("the collector (pid \(pid)) ended with status \(process.terminationStatus): \(output)")
        }
    }

    private func kill() {
        if process.isRunning { Glibc.kill(pid, SIGKILL) }
        process.waitUntilExit()
    }
}

extension S3ImpactCollector.Objects {
    init(count: Int, bytes: Int) {
        self.count = count
        self.bytes = bytes
    }
}
