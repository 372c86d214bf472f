import ArgumentParser
import Foundation
import NIOCore
import Operations
import RedisClient
import S3
#if canImport(Glibc)
import Glibc
#endif

/// Archives in object storage, against a local SeaweedFS: `replay-until --into` from the
/// bucket against the same from a local folder (same archive, same server, alternating),
/// shipping a spool's backlog (the collector's uploader) against `aws s3 cp --recursive`
/// of the same chunk files to the same store, and the peak memory of the process.
struct S3ArchiveBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3",
        abstract: "restore from a bucket vs a folder (goal >= 0.9), shipping vs aws s3 cp --recursive (goal >= 1.0), peak memory (< 100 MB).")

    @Option(help: "Commands in the archive.") var commands = 500_000
    @Option(help: "Rounds; medians are reported.") var rounds = 9
    @Flag(help: "Only the restores (no shipping comparison).") var restoreOnly = false
    @Option(help: "Also restore an archive holding one chunk of this many MB (0: skip), printing the redkeep command's peak memory.")
    var largeChunkMb = 0

    mutating func run() async throws {
        guard let aws = ExternalCommand.find("aws") else { throw ValidationError("the s3 benchmark needs aws (pip install awscli)") }
        let work = NSTemporaryDirectory() + "redkeep-bench-s3-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let folder = work + "/archive"
        let archived = try RestoreBenchmark.buildArchive(folder, flat: work + "/commands.resp", commands: commands)
        let objects = try await LocalObjectStore.start(bucket: "bench")
        let lab = try Lab()
        do {
            setenv("AWS_ACCESS_KEY_ID", objects.credentials.accessKeyID, 1)
            setenv("AWS_SECRET_ACCESS_KEY", objects.credentials.secretAccessKey.revealed, 1)
            setenv("AWS_DEFAULT_REGION", "us-east-1", 1)
            let endpoint = objects.endpoint.description
            let local = LocalArchiveStore(root: folder)
            let bucket = try ArchiveStores.open("s3://bench/archive/", s3Endpoint: endpoint)
            _ = try await ArchiveIO.run { try ArchiveCopy.run(from: local, to: bucket) }
            let chunks = try ArchiveIndex.read(local).chunks
            // The peak after each phase, so a peak above the goal points at its phase.
            var peaks = [("building the archive and copying it into the bucket", RestoreBenchmark.peakMemoryMB())]
            print("S3 archives: \(grouped(Double(commands))) SETs (\(archived / 1_000_000) MB in \(chunks.count) chunks), SeaweedFS at \(endpoint), \(rounds) rounds (median)")

            let server = try await lab.start("s3-bench", LocalServerOptions(config: [("save", "")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            // The folder, the bucket, and the bucket read twice (nothing the check read kept
            // for the write: how restores read before CheckedObjects), in rotating order.
            var times: [[Double]] = [[], [], []]
            // GETs and bytes downloaded by one restore from the bucket (the index included).
            var downloads: [Int: (gets: Int, bytes: Int)] = [:]
            let statistics = (bucket as? S3ArchiveStore)?.statistics
            for round in 0..<rounds {
                for step in 0..<3 {
                    let which = (round + step) % 3
                    var options = RestoreOptions(flush: true)
                    if which == 2 { options.checkedBytesKept = 0 }
                    let (gets, bytes) = (statistics?.gets ?? 0, statistics?.bytesReceived ?? 0)
                    let start = ContinuousClock.now
                    let report = try await Restore.run(archive: which == 0 ? local : bucket, target: .latest,
                                                       destination: .connection(c, name: "s3-bench", scratch: lab), options: options)
                    guard report.outcome.commands == commands else { throw ValidationError("the restore applied \(report.outcome.commands) commands, not \(commands)") }
                    times[which].append((ContinuousClock.now - start).inSeconds)
                    if which != 0, let statistics { downloads[which] = (statistics.gets - gets, statistics.bytesReceived - bytes) }
                    if !report.outcome.notes.isEmpty { print("      notes: \(report.outcome.notes.joined(separator: "; "))") }
                }
            }
            let (fromFolder, fromBucket, readTwice) = (times[0], times[1], times[2])
            let restoreRatio = median(fromFolder) / median(fromBucket)
            let twiceRatio = median(fromFolder) / median(readTwice)
            print("  replay-until --into      from the bucket \(fixed(median(fromBucket)))s   from a folder \(fixed(median(fromFolder)))s   ratio \(fixed(restoreRatio))  \(verdict(restoreRatio, goal: 0.9))")
            print("      bucket read twice (nothing kept) \(fixed(median(readTwice)))s   ratio \(fixed(twiceRatio))")
            print("      rounds: bucket \(fromBucket.map { fixed($0) }.joined(separator: " ")) s; folder \(fromFolder.map { fixed($0) }.joined(separator: " ")) s; read twice \(readTwice.map { fixed($0) }.joined(separator: " ")) s")
            for (which, label) in [(1, "bucket"), (2, "bucket, nothing kept")] {
                guard let d = downloads[which] else { continue }
                print("      one restore from the \(label): \(d.gets) GETs for \(chunks.count + 1) objects (+ the index), \(fixed(Double(d.bytes) / 1e6, 1)) MB downloaded for an archive of \(fixed(Double(archived) / 1e6, 1)) MB")
            }
            // Where the time goes: the check before writing, then the write (one more run of each).
            for (label, store) in [("bucket", bucket), ("folder", local as any ArchiveStore)] {
                let phases = try await Self.phases(store, into: c, lab: lab)
                print("      phases from the \(label): check \(fixed(phases.check))s, write \(fixed(phases.write))s")
            }
            let floor = try await Self.downloadFloor(endpoint: endpoint, bucket: "bench", prefix: "archive/", chunks: chunks, store: bucket, rounds: rounds)
            print("      the store's floor for the \(chunks.count) chunks, all at once: our GETs, nothing checked \(fixed(floor.client * 1000, 1)) ms; curl -Z \(floor.curl.map { fixed($0 * 1000, 1) + " ms" } ?? "(no curl)"); read and checked as the restore does (sha256) \(fixed(floor.checked * 1000, 1)) ms")
            // The part of the check that is reading the index (the rest is the objects).
            for (label, store) in [("bucket", bucket), ("folder", local as any ArchiveStore)] {
                var reads: [Double] = []
                for _ in 0..<rounds {
                    let start = ContinuousClock.now
                    _ = try await ArchiveIO.run { try ArchiveIndex.read(store) }
                    reads.append((ContinuousClock.now - start).inSeconds)
                }
                print("      reading the index from the \(label): \(fixed(median(reads) * 1000, 1)) ms")
            }
            await c.close()
            peaks.append(("the restores", RestoreBenchmark.peakMemoryMB()))
            // The whole command as a user runs it, from the bucket: its own peak memory.
            let redkeep = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("redkeep").path
            if largeChunkMb > 0 {
                guard FileManager.default.isExecutableFile(atPath: redkeep) else { throw ValidationError("--large-chunk-mb needs \(redkeep)") }
                let large = try ArchiveStores.open("s3://bench/large-chunk/", s3Endpoint: endpoint)
                try await Self.largeChunk(megabytes: largeChunkMb, work: work, bucket: large, endpoint: endpoint, port: server.port, redkeep: redkeep)
            }
            if FileManager.default.isExecutableFile(atPath: redkeep) {
                let script = "connect t 127.0.0.1:\(server.port); replay-until now --archive s3://bench/archive/ --s3-endpoint \(endpoint) --into t --flush"
                let run = try await ExternalCommand.run("/usr/bin/time", ["-f", "max-rss-kb %M", redkeep, "-c", script])
                let rss = run.output.split(separator: "\n").last { $0.hasPrefix("max-rss-kb ") }.flatMap { Double($0.dropFirst(11)) }
                guard run.succeeded, let rss else { throw ValidationError("redkeep from the bucket failed: \(run.output.suffix(500))") }
                let mb = rss / 1024
                print("  peak memory of the redkeep command restoring from the bucket (max RSS) \(fixed(mb)) MB  \(mb < 100 ? "meets goal < 100 MB" : "ABOVE goal < 100 MB")")
            }

            var shipping: [Double] = [], copying: [Double] = []
            for round in 0..<(restoreOnly ? 0 : rounds) {
                for which in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                    if which == 0 {
                        // A spool holding the whole archive as backlog, shipped by the uploader.
                        let spool = work + "/spool-\(round)"
                        let made = try await ExternalCommand.run("/bin/cp", ["-r", folder, spool])
                        guard made.succeeded else { throw ValidationError("cp failed: \(made.output)") }
                        let remote = try ArchiveStores.open("s3://bench/shipped-\(round)/", s3Endpoint: endpoint)
                        let start = ContinuousClock.now
                        try await ArchiveIO.run {
                            let forwarding = try ForwardingArchiveStore(remote: remote, spool: spool, pause: .zero, rate: nil)
                            let writer = try forwarding.openIndexWriter(creating: nil)
                            forwarding.finish(drain: .seconds(600))
                            writer.close()
                            let status = forwarding.uploadStatus()
                            guard status.uploadedObjects == chunks.count + 1, status.backlogObjects == 0 else {
                                throw ValidationError("shipping left \(status.backlogObjects) objects (\(status.lastError ?? "no error"))")
                            }
                        }
                        shipping.append((ContinuousClock.now - start).inSeconds)
                        try? FileManager.default.removeItem(atPath: spool)
                    } else {
                        let start = ContinuousClock.now
                        let result = try await ExternalCommand.run(aws, ["s3", "cp", "--recursive", "--quiet", "--endpoint-url", endpoint,
                                                                         folder, "s3://bench/aws-\(round)/"])
                        guard result.succeeded else { throw ValidationError("aws s3 cp failed: \(result.output.prefix(300))") }
                        copying.append((ContinuousClock.now - start).inSeconds)
                    }
                }
            }
            if !restoreOnly {
                let shipRatio = median(copying) / median(shipping)
                let rate = Double(archived) / median(shipping) / 1e6
                print("  shipping (uploader)      redkeep \(fixed(median(shipping)))s (\(fixed(rate, 1)) MB/s)   aws s3 cp --recursive \(fixed(median(copying)))s   ratio \(fixed(shipRatio))  \(verdict(shipRatio, goal: 1.0))")
                print("      rounds: redkeep \(shipping.map { fixed($0) }.joined(separator: " ")) s; aws \(copying.map { fixed($0) }.joined(separator: " ")) s")
            }
            let peak = RestoreBenchmark.peakMemoryMB()
            peaks.append(("shipping", peak))
            print("  peak memory of the whole benchmark process (VmHWM) \(fixed(peak)) MB  \(peak < 100 ? "meets goal < 100 MB" : "ABOVE goal < 100 MB")")
            print("      peak after: \(peaks.map { "\($0.0) \(fixed($0.1)) MB" }.joined(separator: "; "))")
            await lab.shutdown()
            await objects.stop()
        } catch {
            await lab.shutdown()
            await objects.stop()
            throw error
        }
    }

    /// One restore of `store` into `c`, timed by phase: from the start to the first
    /// progress of the write (planning and the check before writing), and the rest.
    static func phases(_ store: any ArchiveStore, into c: RedisConnection, lab: Lab) async throws -> (check: Double, write: Double) {
        final class FirstWrite: @unchecked Sendable {
            let lock = NSLock()
            var at: ContinuousClock.Instant?
        }
        let first = FirstWrite()
        let start = ContinuousClock.now
        _ = try await Restore.run(archive: store, target: .latest, destination: .connection(c, name: "s3-bench", scratch: lab),
                                  options: RestoreOptions(flush: true)) { progress in
            guard progress.phase != .checking else { return }
            first.lock.withLock { if first.at == nil { first.at = .now } }
        }
        let end = ContinuousClock.now
        let written = first.lock.withLock { first.at } ?? end
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return (seconds(written - start), seconds(end - written))
    }
}
