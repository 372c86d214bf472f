import Foundation
import Operations
import RedisClient
import Testing

/// `--upload-priority`: a collector shipping to a real object store (SeaweedFS) under a
/// little write load runs its upload thread and its S3 client's I/O thread at the priority
/// asked for (nice 19, or SCHED_IDLE), as the kernel reports it in /proc, while the
/// copying thread and the main thread keep theirs; and the archive still arrives whole.
/// The collector runs in this process, so its threads are in /proc/self/task.
@Suite(.serialized) struct S3UploadPriorityTests {
    /// One thread as /proc/self/task/TID says: name, nice (field 19), policy (field 41).
    struct ThreadSched: CustomStringConvertible {
        let tid: Int
        let name: String
        let nice: Int
        let policy: Int
        var description: String { "\(name)[\(tid)] nice \(nice) policy \(policy)" }
    }

    /// A thread name as the kernel keeps it (15 bytes).
    static func comm(_ name: String) -> String { String(name.utf8.prefix(15))! }

    static let schedOther = 0
    static let schedIdle = 5

    /// Every thread of this process with its scheduling.
    static func threads() throws -> [ThreadSched] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { entry in
            guard let tid = Int(entry) else { return nil }
            // A thread may end between the listing and the reads: skip it then.
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8),
                  let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // The fields after "(comm)" start with field 3 (state).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, let nice = Int(fields[19 - 3]), let policy = Int(fields[41 - 3]) else {
                throw LabError("cannot read nice and policy in /proc/self/task/\(tid)/stat: \(stat)")
            }
            return ThreadSched(tid: tid, name: comm.trimmingCharacters(in: .whitespacesAndNewlines), nice: nice, policy: policy)
        }
    }

    @Test(arguments: [UploadPriority?.none, .low, .idle])
    func theShippingThreadsRunAtTheUploadPriorityAndTheArchiveStaysWhole(_ asked: UploadPriority?) async throws {
        let expected = asked ?? UploadPriority.default
        try await withLab { lab in
            let objects = try await lab.startObjectStore("objects")
            S3TestEnvironment.point(at: objects)
            let endpoint = objects.endpoint.description
            let location = "s3://redkeep/priority-\(expected.rawValue)/"
            let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            var options = CollectorOptions(archive: location, chunkSize: 4096, pause: .zero, interval: .milliseconds(100), rate: nil)
            options.s3Endpoint = endpoint
            options.spool = try restoreTemporaryFolder("spool", in: lab)
            if let asked { options.uploadPriority = asked }
            let collector = try await Collector.open(name: "source", source: server.connectionConfiguration, options: options)
            let running = Task.detached { await collector.run() }

            // A little write load, until a few chunks went up.
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            var n = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while (collector.status().upload?.uploadedObjects ?? 0) < 3 && ContinuousClock.now < deadline {
                _ = try await c.pipeline((0..<50).map { _ in
                    n += 1
                    return ["SET", .string("key:\(n % 300)"), .string(String(repeating: "v", count: 40) + "\(n)")]
                })
                try await Task.sleep(for: .milliseconds(50))
            }
            let upload = try #require(collector.status().upload)
            #expect(upload.uploadedObjects >= 3, "chunks were shipped: \(upload)")
            #expect(upload.priority == expected && upload.priorityProblem == nil, "\(upload)")

            // The threads, as the kernel schedules them.
            let all = try Self.threads()
            let uploadThreads = all.filter { $0.name == "redkeep-upload" }
            let ioThreads = all.filter { $0.name == "redkeep-upl-io" }
            let copying = all.filter { $0.name == Self.comm("redkeep-collector-source") }
            let main = all.filter { $0.tid == Int(getpid()) }
            let lease = all.filter { $0.name == Self.comm("redkeep-s3-lease") }
            #expect(uploadThreads.count == 1 && ioThreads.count == 1 && copying.count == 1 && main.count == 1, "\(all)")
            // The lease renewal is part of the shipping: started by the upload thread, it has its priority.
            for shipping in uploadThreads + ioThreads + lease {
                switch expected {
                case .low: #expect(shipping.nice == 19 && shipping.policy == Self.schedOther, "\(shipping)")
                case .idle: #expect(shipping.policy == Self.schedIdle, "\(shipping)")
                case .normal: Issue.record("normal is not the default")
                }
            }
            // The copying keeps its own priority (nice 10, set by the collector's thread),
            // the main thread its 0; neither is idle.
            for thread in copying { #expect(thread.nice == 10 && thread.policy == Self.schedOther, "\(thread)") }
            for thread in main { #expect(thread.nice == 0 && thread.policy == Self.schedOther, "\(thread)") }
            // Only the shipping (and the lease renewal its thread starts) is lowered: no
            // thread of a shared pool inherited its priority.
            let shippingNames: Set = ["redkeep-upload", "redkeep-upl-io", Self.comm("redkeep-s3-lease")]
            let lowered = all.filter { !shippingNames.contains($0.name) && ($0.nice > 10 || $0.policy != Self.schedOther) }
            #expect(lowered.isEmpty, "\(lowered)")

            // Shipping still works: the backlog drains, and the bucket holds the whole history.
            let writes = n
            let drained = ContinuousClock.now
            while (collector.status().upload?.backlogObjects ?? 1) > 0 && ContinuousClock.now - drained < .seconds(60) {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(collector.status().upload?.backlogObjects == 0, "\(String(describing: collector.status().upload))")
            await c.close()
            collector.requestStop()
            await running.value
            let final = collector.status()
            #expect(final.errors == 0 && final.upload?.lastError == nil, "\(final)")
            // The uploader's own threads end with it (a moment after it said it stopped).
            var left = try Self.threads().filter { $0.name == "redkeep-upload" || $0.name == "redkeep-upl-io" }
            let stopped = ContinuousClock.now
            while !left.isEmpty && ContinuousClock.now - stopped < .seconds(10) {
                try await Task.sleep(for: .milliseconds(50))
                left = try Self.threads().filter { $0.name == "redkeep-upload" || $0.name == "redkeep-upl-io" }
            }
            #expect(left.isEmpty, "\(left)")

            let bucket = try ArchiveStores.open(location, s3Endpoint: endpoint)
            let index = try await ArchiveIO.run { try ArchiveIndex.read(bucket) }
            #expect(index.gaps.isEmpty && index.chunks.count >= 3, "\(index.chunks.count) chunks, gaps \(index.gaps)")
            #expect(try await ArchiveIO.run { try ArchiveVerifyResult.run(index).isSound })
            let stored = try await ArchiveIO.run { try bucket.list(prefix: "stream-") }
            #expect(stored.count == index.chunks.count, "every chunk recorded is in the bucket (\(writes) writes)")
        }
    }
}
