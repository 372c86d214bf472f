import Testing

@testable import RDB

/// Valkey 9's slot import opcode (243), hand-built the way valkey-io/valkey
/// src/cluster_migrateslots.c `clusterRDBSaveSlotImports` writes it: the job name (40
/// bytes), the number of slot ranges, then each range's start and end slot as lengths.
@Suite struct ValkeySlotImportTests {
    typealias B = RDBBuilder

    static let job = b(String(repeating: "7f3a", count: 10))
    static let opcode: [UInt8] = [0xF3] + B.string(job) + B.length(2) + B.length(0) + B.length(100) + B.length(5000) + B.length(5460)
    static let bytes = B.file(version: 80, valkey: true, [0xFA] + B.string("valkey-ver") + B.string("9.0.0") + opcode
                              + [0xFE] + B.length(0) + B.key(0, "k", B.string("v")))

    @Test func readsTheJobAndItsSlotRangesThenTheKeys() throws {
        let (entries, _) = try B.read(Self.bytes)
        let imports = entries.compactMap { if case .slotImport(let job, let slots) = $0 { (job, slots) } else { nil } }
        #expect(imports.count == 1)
        #expect(imports.first?.0 == Self.job && imports.first?.1 == [0...100, 5000...5460])
        #expect(entries.contains { if case .key(let k) = $0 { k.key == b("k") } else { false } })
        let report = RDBCheck.check(RDBMemorySource(Self.bytes))
        #expect(report.isValid && report.keys == 1, "\(String(describing: report.problem))")
        #expect(report.notes == ["slot import under way: job \"\(String(decoding: Self.job, as: UTF8.self))\", slots 0-100,5000-5460"])
    }

    @Test func inARedisFileTheOpcodeIsUnknown() throws {
        let redis = B.file(version: 12, Self.opcode)
        let error = try #require(RDBErrorTests.failure(redis))
        #expect(error.kind == .malformed && error.offset == 9 && error.reason.contains("243"), "\(error)")
    }

    @Test func aRangeThatEndsBeforeItStartsIsDamageAtItsOffset() throws {
        let bad = B.file(version: 80, valkey: true, [0xF3] + B.string("j") + B.length(1) + B.length(9) + B.length(3))
        let error = try #require(RDBErrorTests.failure(bad))
        // Header 9, opcode 1, name 2, count 1: the range at 13.
        #expect(error.kind == .malformed && error.offset == 13 && error.reason.contains("9-3"), "\(error)")
    }

    @Test func truncatedAtEveryOffsetThrowsWithinTheCut() {
        RDBErrorTests.expectEveryTruncationFails(Self.bytes)
    }

    @Test func aHostileRangeCountFailsWithoutLooping() throws {
        let bad = B.file(version: 80, valkey: true, [0xF3] + B.string("j") + B.length(UInt64(UInt32.max)) + B.length(1) + B.length(2))
        let error = try #require(RDBErrorTests.failure(bad))
        #expect(error.kind == .malformed && error.offset == 12 && error.reason.contains("slot range count"), "\(error)")
    }
}
