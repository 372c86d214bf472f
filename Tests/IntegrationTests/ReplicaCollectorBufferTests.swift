import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The replica collector against the master's output buffer: a limit that cuts the link
/// during the full sync (said, retried, and nothing half-made in the archive), and an
/// archive slower than the writes (the collector stops reading, the master holds the
/// stream: the collector's memory stays bounded).
@Suite(.serialized) struct ReplicaCollectorBufferTests {
    typealias Support = ReplicaCollectorTests

    static func replicaOptions(_ archive: String, rate: Int? = nil, chunkSize: Int = 512) -> CollectorOptions {
        var options = CollectorOptions(archive: archive, chunkSize: chunkSize, pause: .zero, interval: .milliseconds(100), rate: rate)
        options.replica = true
        return options
    }

    /// Pipelines `count` SETs of `size`-byte values.
    static func write(_ source: RedisConnection, count: Int, size: Int, prefix: String) async throws {
        let value = String(repeating: "v", count: size)
        for batch in stride(from: 0, to: count, by: 16) {
            let commands: [RESPCommand] = (batch..<min(count, batch + 16)).map { RESPCommand("SET", "\(prefix)\($0)", value) }
            _ = try await source.pipeline(commands)
        }
    }

    @Test func anOutputBufferLimitCutDuringTheFullSyncIsSaidAndRetried() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(config: [
                ("repl-diskless-sync", "no"), ("client-output-buffer-limit", "replica 256kb 128kb 1"), Support.debug,
            ]))
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            try await Self.write(source, count: 1000, size: 16, prefix: "base")
            // A slow BGSAVE (3 ms a key): the full sync lasts seconds, long enough to
            // overflow the replica's buffer with writes.
            _ = try await source.send(["CONFIG", "SET", "rdb-key-save-delay", "3000"])
            let archive = try restoreTemporaryFolder("replica", in: lab)
            let collector = try await ReplicaCollector.open(name: "source", source: server.connectionConfiguration,
                                                            options: Self.replicaOptions(archive))
            let running = Task.detached { await collector.run() }
            try await Support.waitUntil("the full sync starts: \(collector.status())") { collector.status().replica?.state == .fullSync }
            try await Self.write(source, count: 16, size: 64 * 1024, prefix: "during")
            try await Support.waitUntil("the collector says the link was cut: \(collector.status())") {
                collector.status().lastError?.contains("client-output-buffer-limit replica") == true
            }
            let cut = collector.status()
            #expect(cut.lastError?.contains("\(server.endpoint) closed the replica link (during the full sync's RDB transfer") == true,
                    "\(cut.lastError ?? "")")
            #expect(try ArchiveIndex.read(archive).generations.isEmpty, "a cut full sync made a generation")
            // The operator's fix: the next attempt finishes.
            _ = try await source.send(["CONFIG", "SET", "rdb-key-save-delay", "0"])
            try await Support.waitUntil("the collector streams after the retry: \(collector.status())", timeout: .seconds(60)) {
                collector.status().replica?.state == .streaming
            }
            _ = try await source.send(["SET", "after", "1"])
            try await Support.waitArchived(source)
            let status = collector.status()
            collector.requestStop()
            await running.value
            #expect(status.replica?.fullSyncs ?? 0 >= 2)
            let index = try ArchiveIndex.read(archive)
            #expect(index.generations.count == 1 && index.gaps.isEmpty)
            #expect(try await Support.restored(archive, in: lab).digest == RDBRoundTripTests.digest(source))
            await source.close()
        }
    }

    @Test func aSlowArchiveHoldsTheLinkBackNotTheMemory() async throws {
        try await withLab { lab in
            let server = try await lab.start("source", LocalServerOptions(config: [("client-output-buffer-limit", "replica 0 0 0"), Support.debug]))
            let source = try await RedisConnection.connect(server.connectionConfiguration)
            let archive = try restoreTemporaryFolder("replica", in: lab)
            let limit = 1 << 20
            let collector = try await ReplicaCollector.open(name: "source", source: server.connectionConfiguration,
                                                            options: Self.replicaOptions(archive, rate: 3 << 20, chunkSize: 256 * 1024),
                                                            bufferLimit: limit)
            let running = Task.detached { await collector.run() }
            try await Support.waitUntil("the collector streams") { collector.status().replica?.state == .streaming }
            // 32 MB of writes, archived at 3 MB/s.
            try await Self.write(source, count: 128, size: 256 * 1024, prefix: "big")
            // The master holds what the collector does not read.
            try await Support.waitUntil("the master holds the stream for the collector: \(collector.status())") {
                try await source.info("memory").int("mem_total_replication_buffers") ?? 0 > 8 << 20
            }
            let offset = try await source.info("replication").int("master_repl_offset") ?? -1
            try await Support.waitUntil("the collector archives everything: \(collector.status())", timeout: .seconds(120)) {
                (collector.status().replica?.archivedOffset ?? 0) >= offset
            }
            let status = collector.status()
            collector.requestStop()
            await running.value
            let peak = status.replica?.peakHeldBytes ?? -1
            // The bound, one socket read and one partial message (a value) over it at most.
            #expect(peak > 0 && peak <= limit + 512 * 1024, "the collector held \(peak) bytes, the bound is \(limit)")
            #expect(status.replica?.fullSyncs == 1 && status.replica?.resumes == 0)
            #expect(try await Support.restored(archive, in: lab).digest == RDBRoundTripTests.digest(source))
            await source.close()
        }
    }
}
