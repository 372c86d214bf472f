import ArgumentParser
import Foundation
import Operations
import S3

extension S3ArchiveBenchmark {
    /// How long the store takes to hand over the archive's chunks with nothing checked:
    /// all at once in GETs of our client, bodies dropped, and the same by `curl -Z` (curl
    /// signs SigV4 itself); beside it, the same chunks read and checked (sha256) as a
    /// restore's check reads them. The check cannot end before the store has sent the
    /// bytes, so the first figure is the floor of what a bucket adds to a restore.
    static func downloadFloor(endpoint: String, bucket: String, prefix: String, chunks: [ArchiveRecord.Chunk],
                              store: any ArchiveStore, rounds: Int) async throws -> (client: Double, curl: Double?, checked: Double) {
        let environment = ProcessInfo.processInfo.environment
        let configuration = try S3Configuration.resolve(endpointArgument: endpoint, environment: environment)
        let keys = chunks.map { prefix + $0.path }
        var client: [Double] = [], curl: [Double] = [], checked: [Double] = []
        let curlPath = ExternalCommand.find("curl")
        // curl reads the key pair from a private config file, not from its arguments
        // (which `ps` shows).
        var credentials: String?
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] {
            let path = NSTemporaryDirectory() + "redkeep-bench-curl-\(getpid()).conf"
            guard FileManager.default.createFile(atPath: path, contents: Data("user = \"\(id):\(secret)\"\n".utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(path)")
            }
            credentials = path
        }
        defer { if let credentials { try? FileManager.default.removeItem(atPath: credentials) } }
        try await S3Client.withClient(configuration, bucket: bucket) { s3 in
            for _ in 0..<rounds {
                var start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for key in keys { group.addTask { try await s3.getObject(key) { _ in } } }
                    for try await _ in group {}
                }
                client.append((ContinuousClock.now - start).inSeconds)
                start = ContinuousClock.now
                try await ArchiveIO.run { () throws(ArchiveError) in
                    // One thread per chunk, as the restore's check has one reader per chunk here.
                    let failures = ChunkFailures()
                    let done = DispatchGroup()
                    for chunk in chunks {
                        done.enter()
                        Thread {
                            do throws(ArchiveError) { try ArchiveObjectCheck.chunk(chunk, in: store) { _, _ throws(ArchiveError) in } } catch {
                                failures.add(error)
                            }
                            done.leave()
                        }.start()
                    }
                    done.wait()
                    if let first = failures.first { throw first }
                }
                checked.append((ContinuousClock.now - start).inSeconds)
                if let curlPath, let credentials {
                    var arguments = ["-s", "-f", "-Z", "--parallel-max", String(keys.count), "--aws-sigv4", "aws:amz:\(configuration.region):s3", "-K", credentials]
                    for key in keys { arguments += ["-o", "/dev/null", "\(endpoint)/\(bucket)/\(key)"] }
                    start = ContinuousClock.now
                    let result = try await ExternalCommand.run(curlPath, arguments)
                    guard result.succeeded else { throw ValidationError("curl failed: \(result.output.prefix(300))") }
                    curl.append((ContinuousClock.now - start).inSeconds)
                }
            }
        }
        return (median(client), curl.isEmpty ? nil : median(curl), median(checked))
    }
}

/// The checks' failures, from the reader threads.
private final class ChunkFailures: @unchecked Sendable {
    // @unchecked: `errors` is used under `lock`.
    private let lock = NSLock()
    private var errors: [ArchiveError] = []
    func add(_ error: ArchiveError) { lock.withLock { errors.append(error) } }
    var first: ArchiveError? { lock.withLock { errors.first } }
}
