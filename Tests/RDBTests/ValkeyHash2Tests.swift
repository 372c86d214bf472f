import Testing

@testable import RDB

/// Valkey 9's hash with field expiry (type 22 in a `VALKEY080` file), hand-built the way
/// valkey-io/valkey src/rdb.c `rdbSaveObject` writes it: the field count, then per field
/// the field, the value and an 8-byte little-endian signed expiry in ms (-1: none).
/// No valkey-server binary is at hand here, so these bytes are built from the source.
@Suite struct ValkeyHash2Tests {
    typealias B = RDBBuilder

    /// rdbSaveMillisecondTime: 8 bytes, little-endian, signed.
    static func ms(_ v: Int64) -> [UInt8] { B.le(UInt64(bitPattern: v), 8) }

    /// A type 22 value: (field, value bytes as written, expiry) triples.
    static func hash2(_ fields: [(field: [UInt8], value: [UInt8], expiry: Int64)]) -> [UInt8] {
        B.length(UInt64(fields.count)) + fields.flatMap { $0.field + $0.value + ms($0.expiry) }
    }

    /// Three fields: one with an expiry, one without (-1), one whose value is int-encoded
    /// and whose expiry is 0 (a time long past, not "none").
    static let small = hash2([(B.string("a"), B.string("1"), 1_700_000_000_123),
                              (B.string("b"), B.string("two"), -1),
                              (B.string("c"), B.intString(300), 0)])
    static let smallFields = [RDBHashField(field: b("a"), value: b("1"), expiresAtMs: 1_700_000_000_123),
                              RDBHashField(field: b("b"), value: b("two")),
                              RDBHashField(field: b("c"), value: b("300"), expiresAtMs: 0)]

    /// 300 fields (a 14-bit count), every third without expiry, one LZF-compressed value.
    static let big: (bytes: [UInt8], fields: [RDBHashField]) = {
        var triples: [(field: [UInt8], value: [UInt8], expiry: Int64)] = []
        var fields: [RDBHashField] = []
        for k in 0..<300 {
            let expiry: Int64 = k % 3 == 0 ? -1 : 1_800_000_000_000 + Int64(k)
            let name = b("field:\(k)")
            if k == 7 {
                triples.append((B.string(name), B.lzfString(B.lzfSample.compressed, plainLength: 12), expiry))
                fields.append(RDBHashField(field: name, value: B.lzfSample.plain, expiresAtMs: UInt64(expiry)))
            } else {
                let value = b(String(repeating: "v", count: k % 90))
                triples.append((B.string(name), B.string(value), expiry))
                fields.append(RDBHashField(field: name, value: value, expiresAtMs: expiry == -1 ? nil : UInt64(expiry)))
            }
        }
        return (hash2(triples), fields)
    }()

    static func file(_ value: [UInt8], name: String = "h") -> [UInt8] {
        B.file(version: 80, valkey: true, [0xFE] + B.length(0) + B.key(22, name, value))
    }

    static func only(_ value: [UInt8], blockSize: Int = 1 << 20) throws -> (RDBKeyEntry, [RDBHashField]) {
        let key = try #require(try B.keys(file(value), blockSize: blockSize).first)
        #expect(key.type == .valkeyHash2 && key.valkey && key.rdbVersion == 80)
        #expect(key.serialization == value, "the serialization is the value's exact bytes")
        guard case .hash(let fields) = try key.value() else { Issue.record("not a hash"); return (key, []) }
        return (key, fields)
    }

    @Test func smallHashReadsFieldsValuesAndExpiries() throws {
        let (key, fields) = try Self.only(Self.small)
        #expect(fields == Self.smallFields)
        let summary = try key.summary()
        #expect(summary.typeName == "hash" && summary.count == 3 && summary.encoding == "Valkey field expiry")
    }

    @Test func bigHashReadsTheSameInSmallBlocks() throws {
        let (key, fields) = try Self.only(Self.big.bytes)
        #expect(fields == Self.big.fields)
        #expect(fields.filter { $0.expiresAtMs == nil }.count == 100)
        #expect(try key.summary().count == 300)
        // The reader's own pass over 64-byte blocks finds the same value's end.
        let (chunked, same) = try Self.only(Self.big.bytes, blockSize: 64)
        #expect(same == fields && chunked.serialization == key.serialization)
    }

    @Test func emptyHashReadsAsEmpty() throws {
        let (key, fields) = try Self.only(B.length(0))
        let count = try key.summary().count
        #expect(fields.isEmpty && count == 0)
    }

    @Test func checkCountsItAsAHash() {
        let bytes = B.file(version: 80, valkey: true, [0xFE] + B.length(0) + B.key(22, "h", Self.small) + B.key(0, "s", B.string("x")))
        let report = RDBCheck.check(RDBMemorySource(bytes))
        #expect(report.isValid && report.valkey && report.version == 80, "\(String(describing: report.problem))")
        #expect(report.databases.first?.keysByType == ["hash": 1, "string": 1])
    }

    @Test func byte22OfARedisFileIsNotValkeysHash() throws {
        // The magic decides: in a REDIS file 22 is Redis 7.4 pre-GA's hash with field TTLs,
        // a different layout ([ttl length][field][value]), so these bytes do not read as the
        // same fields there.
        let redis = B.file(version: 12, B.key(22, "h", Self.small))
        let keys = try? B.keys(redis)
        if let key = keys?.first {
            #expect(key.type == .hashMetadataPreGA)
            #expect((try? key.value()) != .hash(Self.smallFields))
        }
        #expect(RDBValueType(byte: 22, valkey: true) == .valkeyHash2)
        #expect(RDBValueType(byte: 22, valkey: false) == .hashMetadataPreGA)
    }

    @Test func truncatedAtEveryOffsetThrowsWithinTheCut() {
        RDBErrorTests.expectEveryTruncationFails(Self.file(Self.small))
    }

    @Test func anExpiryBelowMinusOneIsDamageAtItsOffset() throws {
        let value = Self.hash2([(B.string("a"), B.string("1"), -2)])
        let bytes = Self.file(value)
        let error = try #require(RDBErrorTests.failure(bytes))
        // Header 9, SELECTDB 2, type 1, key 2, count 1, field 2, value 2: the expiry at 19.
        #expect(error.kind == .malformed && error.offset == 19 && error.reason.contains("-2"), "\(error)")
    }

    @Test func aHostileFieldCountFailsWithoutAllocating() throws {
        // 2^32 - 1 fields claimed, a few bytes present.
        let bytes = Self.file(B.length(UInt64(UInt32.max)) + B.string("a") + B.string("1") + Self.ms(-1))
        let error = try #require(RDBErrorTests.failure(bytes))
        #expect(error.kind == .malformed && error.offset == 14 && error.reason.contains("field count"), "\(error)")
    }

    @Test func everyFlippedByteEndsInAnErrorOrAReadingNeverACrash() {
        // 0xFE and 0xFF in an expiry make it negative: below -1 is damage, -1 is none.
        RDBErrorTests.readEveryFlippedByte(Self.file(Self.small), values: [0x00, 0x3F, 0x80, 0xC3, 0xFE, 0xFF])
    }

    @Test func payloadForValkey9CarriesType22AndRoundTrips() throws {
        for (value, fields) in [(Self.small, Self.smallFields), (Self.big.bytes, Self.big.fields)] {
            let (key, _) = try Self.only(value)
            let payload = try DumpPayload.make(for: key, targetVersion: 80)
            let body: [UInt8] = [22] + value + [80, 0]
            #expect(Array(payload.prefix(body.count)) == body && payload.count == body.count + 8)
            #expect(Array(payload.suffix(8)) == B.le(CRC64.checksum(body), 8))
            #expect(try DumpPayload.value(of: payload, key: b("h")) == .hash(fields))
            // With no target named, the file's own version: the same bytes.
            #expect(try DumpPayload.make(for: key) == payload)
        }
    }

    @Test(arguments: [9, 10, 11, 12]) func payloadForRedisOrValkey8IsRefusedByName(target: Int) throws {
        let (key, _) = try Self.only(Self.small)
        let error = #expect(throws: RDBError.self) { try DumpPayload.make(for: key, targetVersion: target) }
        #expect(error?.kind == .incompatible)
        #expect(error?.reason.contains("\"h\"") == true && error?.reason.contains("Valkey 9 hash with field expiry") == true)
        #expect(error?.reason.contains("RDB \(target)") == true)
    }
}
