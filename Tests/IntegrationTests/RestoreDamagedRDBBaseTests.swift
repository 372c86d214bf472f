import Foundation
import NIOCore
import Operations
import RESP
import RedisClient
import Testing

/// An RDB base whose bytes match its sha256 but not its own CRC-64 (damaged before it was
/// archived, or altered together with its index record): the restore and the base listing
/// both fail naming the byte where the reader stopped, never load it silently.
@Suite(.serialized) struct RestoreDamagedRDBBaseTests {
    @Test func aBaseThatDoesNotReadIsNamedWithItsByteOffset() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", RDBRoundTripTests.options())
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await RDBRoundTripTests.run(c, (0..<50).map { ["SET", "k:\($0)", "value-\($0)"] } + [["HSET", "h", "f", "v"]])
            _ = try await c.send(["SAVE"])
            await c.close()
            var base = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source.directory + "/dump.rdb")))
            base[base.count - 1] ^= 0x01  // the CRC-64 trailer, which starts 8 bytes before the end
            let trailerAt = base.count - 8
            let archive = try restoreTemporaryFolder("archive", in: lab)
            var stream = ByteBuffer()
            for command in (1...4).map({ ["SET", .string("after:\($0)"), "v"] as RESPCommand }) { stream.writeRESPCommand(command) }
            try RestoreTemporaryServerTests.archive(at: archive, base: base, incr: Array(stream.readableBytesView))

            let target = try await lab.start("target", RDBRoundTripTests.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            do {
                _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                          destination: .connection(t, name: "target", scratch: nil))
                Issue.record("a base with a bad CRC-64 was restored")
            } catch let error as RestoreError {
                #expect(error.kind == .damagedArchive, "\(error.kind)")
                #expect(error.message.contains("does not read at byte \(trailerAt)") && error.message.contains("CRC-64"), "\(error.message)")
            }
            await t.close()

            let index = try ArchiveIndex.read(LocalArchiveStore(root: archive))
            #expect(throws: ArchiveError.self) { try BaseKeyListing.list(index, generation: 1, pattern: nil, limit: 10) }
            let shell = try RedkeepBinaryTests.redkeep(["-c", "archive log \(archive) --base 1"])
            #expect(shell.status != 0 && shell.err.contains("does not read at byte \(trailerAt)"), "\(shell.out) \(shell.err)")
        }
    }
}
