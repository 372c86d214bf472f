import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The replica collector when its source changes history: the replica it follows is
/// promoted (Redis answers the old id with `+CONTINUE <new id>`: the archive goes on, no
/// full sync, no gap), then made a replica again with a full sync of its own (the id the
/// archive holds is unknown to it: a new generation and a gap naming the lost range).
@Suite(.serialized) struct ReplicaCollectorFailoverTests {
    typealias Support = ReplicaCollectorTests

    /// Waits until the collector has archived everything `server` has in its stream now
    /// (`WAIT` cannot tell on a replica).
    static func waitCaughtUp(_ collector: ReplicaCollector, _ server: RedisConnection) async throws {
        let offset = try await server.info("replication").int("master_repl_offset") ?? -1
        try await Support.waitUntil("the collector archives up to offset \(offset): \(collector.status())") {
            (collector.status().replica?.archivedOffset ?? 0) >= offset
        }
    }

    static func replicationId(_ server: RedisConnection) async throws -> String {
        try #require(try await server.info("replication").string("master_replid"))
    }

    @Test func aPromotedSourceContinuesUnderItsNewIdAndAnUnknownIdMakesAGap() async throws {
        try await withLab { lab in
            let a = try await lab.start("a", LocalServerOptions(config: [Support.debug]))
            let b = try await lab.start("b", LocalServerOptions(replicaOf: "a", config: [Support.debug]))
            let ca = try await RedisConnection.connect(a.connectionConfiguration)
            let cb = try await RedisConnection.connect(b.connectionConfiguration)
            _ = try await ca.send(["SET", "before-sync", "1"])
            try await Support.waitArchived(ca)  // b has it
            let archive = try restoreTemporaryFolder("replica", in: lab)
            var (collector, running) = try await Support.startCollector(b, archive: archive)
            let oldId = try await Self.replicationId(ca)
            #expect(collector.status().replica?.replicationId == oldId)
            _ = try await ca.send(["SET", "via-a", "1"])
            _ = try await ca.send(["INCR", "counter"])
            try await Support.waitArchived(ca)
            try await Self.waitCaughtUp(collector, cb)

            // Failover: b becomes a master under a new id; the collector's PSYNC with the
            // old id continues.
            _ = try await cb.send(["REPLICAOF", "NO", "ONE"])
            let newId = try await Self.replicationId(cb)
            #expect(newId != oldId)
            _ = try await cb.send(["SET", "after-promotion", "1"])
            _ = try await cb.send(["INCR", "counter"])
            try await Support.waitUntil("the collector continues under \(newId): \(collector.status())") {
                let link = collector.status().replica
                return link?.state == .streaming && link?.replicationId == newId
            }
            try await Support.waitArchived(cb)
            let promoted = try await RDBRoundTripTests.digest(cb)
            _ = try await collector.mark("promoted")
            try await Support.waitArchived(cb)
            var status = collector.status()
            #expect(status.replica?.fullSyncs == 1 && status.replica?.resumes ?? 0 >= 1)
            collector.requestStop()
            await running.value
            var index = try ArchiveIndex.read(archive)
            #expect(index.generations.count == 1 && index.gaps.isEmpty)
            #expect(index.streams.last?.sourceFile == "replication:" + newId)
            #expect(try await Support.stats(cb).full == 1, "b made another full sync for the collector")
            #expect(try await Support.restored(archive, in: lab).digest == RDBRoundTripTests.digest(cb))

            // b follows a again: a full sync gives it a's history, and the id the archive
            // holds is unknown to it.
            _ = try await cb.send(["REPLICAOF", "127.0.0.1", .string(String(a.port))])
            _ = try await ca.send(["SET", "while-away", "1"])
            try await Support.waitUntil("b follows a again") {
                let info = try await cb.info("replication")
                return info.string("master_link_status") == "up" && info.string("master_replid") == oldId
            }
            (collector, running) = try await Support.startCollector(b, archive: archive)
            _ = try await ca.send(["SET", "after-resync", "1"])
            try await Support.waitArchived(ca)
            try await Self.waitCaughtUp(collector, cb)
            status = collector.status()
            collector.requestStop()
            await running.value
            #expect(status.replica?.fullSyncs == 1 && status.replica?.resumes == 0)
            index = try ArchiveIndex.read(archive)
            #expect(index.generations.count == 2)
            let gap = try #require(index.gaps.first)
            #expect(index.gaps.count == 1)
            #expect(gap.reason.contains("could not continue replication \(newId)"), "\(gap.reason)")
            let latest = try await Support.restored(archive, in: lab).digest
            #expect(try await latest == RDBRoundTripTests.digest(cb))
            #expect(latest != promoted)
            // Before the gap, the promoted history is still there.
            #expect(try await Support.restored(archive, .mark("promoted"), in: lab).digest == promoted)
            await ca.close()
            await cb.close()
        }
    }
}
