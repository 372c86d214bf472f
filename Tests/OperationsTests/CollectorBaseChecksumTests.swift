import Foundation
import NIOCore
import RDB
import Testing

@testable import Operations

/// The collector checks an RDB base's CRC-64 as it copies it: a damaged base is not
/// archived, the pass says why, and the next pass archives it once it is good.
@Suite struct CollectorBaseChecksumTests {
    /// The smallest RDB: the header, the EOF opcode and the CRC-64 of both.
    static func emptyRDB() -> [UInt8] {
        let body = Array("REDIS0010".utf8) + [0xFF]
        let crc = CRC64.checksum(body)
        return body + (0..<8).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt64($0))) }
    }

    @Test func aBaseWithABadChecksumIsRefusedUntilItIsGood() throws {
        let root = NSTemporaryDirectory() + "redkeep-basecrc-\(UUID().uuidString)"
        let aof = root + "/appendonlydir", archive = root + "/archive"
        try FileManager.default.createDirectory(atPath: aof, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data("file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n".utf8)
            .write(to: URL(fileURLWithPath: aof + "/appendonly.aof.manifest"))
        FileManager.default.createFile(atPath: aof + "/appendonly.aof.1.incr.aof", contents: Data("*1\r\n$4\r\nPING\r\n".utf8))
        var damaged = Self.emptyRDB()
        damaged[damaged.count - 1] ^= 0x01
        let basePath = aof + "/appendonly.aof.1.base.rdb"
        FileManager.default.createFile(atPath: basePath, contents: Data(damaged))

        let engine = try CollectorEngine(store: LocalArchiveStore(root: archive), aofDirectory: aof, appendFilename: "appendonly.aof", chunkSize: 256,
                                         rate: nil, descriptor: ArchiveDescriptor(created: 0, source: "test", aofDirectory: aof), now: 1)
        do {
            try engine.observe(now: 2)
            Issue.record("a base with a bad CRC-64 was archived")
        } catch {
            #expect(error.message.contains(basePath) && error.message.contains("CRC-64") && error.message.contains("next pass"), "\(error.message)")
        }
        #expect(try ArchiveIndex.read(archive).generations.isEmpty)
        #expect(try LocalArchiveStore(root: archive).list(prefix: "gen-").isEmpty, "nothing of the refused base is left in the archive")

        // Repaired in place (the same file): the next pass archives it.
        let handle = try #require(FileHandle(forWritingAtPath: basePath))
        handle.write(Data(Self.emptyRDB()))
        try handle.close()
        try engine.observe(now: 3)
        let generations = try ArchiveIndex.read(archive).generations
        #expect(generations.count == 1 && generations.first?.size == Self.emptyRDB().count)
    }

    /// The replica collector too: a full sync's RDB with a bad CRC-64 is not archived, and
    /// the next full sync's good one is.
    @Test func aFullSyncWhoseRDBHasABadChecksumIsNotArchived() throws {
        let archive = NSTemporaryDirectory() + "redkeep-replicacrc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        let archiver = try ReplicaArchiver(store: LocalArchiveStore(root: archive), descriptor: ArchiveDescriptor(created: 0, source: "test"),
                                           master: "127.0.0.1:1", chunkSize: 256, rate: nil, now: 1)
        var damaged = Self.emptyRDB()
        damaged[damaged.count - 1] ^= 0x01
        func sync(_ rdb: [UInt8], now: Double) throws(CollectorError) {
            try archiver.handle([.fullResync(replicationId: String(repeating: "a", count: 40), offset: 100), .rdbStart(size: rdb.count),
                                 .rdbBytes(ByteBuffer(bytes: rdb)), .rdbEnd], now: now)
        }
        do {
            try sync(damaged, now: 2)
            Issue.record("a full sync's RDB with a bad CRC-64 was archived")
        } catch {
            #expect(error.message.contains("CRC-64") && error.message.contains("127.0.0.1:1") && error.message.contains("not archived"), "\(error.message)")
        }
        #expect(try ArchiveIndex.read(archive).generations.isEmpty)
        #expect(try LocalArchiveStore(root: archive).list(prefix: "gen-").isEmpty, "nothing of the refused base is left in the archive")

        try sync(Self.emptyRDB(), now: 3)
        let generations = try ArchiveIndex.read(archive).generations
        #expect(generations.count == 1 && generations.first?.size == Self.emptyRDB().count)
    }
}
