import Testing

@testable import RDB

/// RESTORE payloads: layout, version stamping and the targets that cannot read a type.
@Suite struct DumpPayloadTests {
    typealias B = RDBBuilder

    @Test func layoutIsTypeValueVersionAndCRC() throws {
        let key = try #require(try B.keys(B.file(version: 11, B.key(0, "k", B.string("hello")))).first)
        let payload = try DumpPayload.make(for: key)
        let body: [UInt8] = [0] + B.string("hello") + [11, 0]
        #expect(Array(payload.prefix(body.count)) == body)
        #expect(Array(payload.suffix(8)) == B.le(CRC64.checksum(body), 8))
        // Lowered to an older target's version.
        let older = try DumpPayload.make(for: key, targetVersion: 10)
        #expect(older[body.count - 2] == 10)
    }

    @Test func typesATargetCannotReadAreRefusedByName() throws {
        let setListpack = try #require(try B.keys(B.file(version: 11, B.key(20, "members", B.string(B.listpack(["a"]))))).first)
        let e = #expect(throws: RDBError.self) { try DumpPayload.make(for: setListpack, targetVersion: 10) }
        #expect(e?.kind == .incompatible && e?.reason.contains("\"members\"") == true && e?.reason.contains("RDB 11") == true)
        let ttlHash = try #require(try B.keys(B.file(version: 12, B.key(25, "h", B.le(0, 8) + B.string(B.listpack(["f", "v", 0]))))).first)
        #expect(throws: RDBError.self) { try DumpPayload.make(for: ttlHash, targetVersion: 80) }
        #expect(try DumpPayload.make(for: ttlHash, targetVersion: 12).count > 0)
        let module = try #require(try B.keys(B.file(B.key(7, "m", B.length(1 << 10) + B.length(0)))).first)
        let m = #expect(throws: RDBError.self) { try DumpPayload.make(for: module) }
        #expect(m?.reason.contains("module") == true)
    }
}
