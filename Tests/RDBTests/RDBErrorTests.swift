import Testing

@testable import RDB

/// Damaged input: each kind ends in an RDBError with its byte offset, never a crash.
@Suite struct RDBErrorTests {
    typealias B = RDBBuilder

    /// Reads everything and decodes every value; returns the error.
    static func failure(_ bytes: [UInt8], blockSize: Int = 1 << 20) -> RDBError? {
        do {
            for key in try B.keys(bytes, blockSize: blockSize) { _ = try key.value() }
            return nil
        } catch {
            return error
        }
    }

    static let sample: [UInt8] = B.file(
        [0xFA] + B.string("redis-ver") + B.string("7.2.4") + [0xFE] + B.length(1) + [0xFC] + B.le(1_700_000_000_000, 8)
        + B.key(0, "s", B.string("hello")) + B.key(18, "l", B.length(1) + B.length(2) + B.string(B.listpack(["a", 1])))
        + B.key(21, "x", RDBEncodingTests.streamBytes(type: 21))
        + B.key(0, "z", B.lzfString(B.lzfSample.compressed, plainLength: 12)))

    /// `bytes` read whole; every prefix of it fails, at an offset within the prefix.
    static func expectEveryTruncationFails(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(failure(bytes) == nil, sourceLocation: sourceLocation)
        for cut in 0..<bytes.count {
            let error = failure(Array(bytes[..<cut]), blockSize: 64)
            #expect(error != nil, "cut at \(cut) of \(bytes.count) was accepted", sourceLocation: sourceLocation)
            if let error { #expect(error.offset <= cut, "cut at \(cut): error \(error)", sourceLocation: sourceLocation) }
        }
    }

    @Test func truncatedAtEveryOffsetThrows() {
        Self.expectEveryTruncationFails(Self.sample)
    }

    /// Each byte of `bytes` replaced by a few values: the read ends (error or not), never
    /// traps; the fuzz entry gets each damaged copy too.
    static func readEveryFlippedByte(_ bytes: [UInt8], values: [UInt8] = [0x00, 0x3F, 0x80, 0xC3, 0xFF]) {
        for i in 0..<bytes.count {
            for v in values {
                var damaged = bytes
                damaged[i] = v
                _ = failure(damaged, blockSize: 64)
                damaged.withUnsafeBytes { RDBReader.fuzz($0) }
            }
        }
    }

    @Test func everyFlippedByteIsAnErrorOrADifferentReadingNeverACrash() {
        Self.readEveryFlippedByte(Self.sample)
    }

    @Test func randomBytesAfterAValidHeaderEndInAnError() {
        var state: UInt64 = 42
        for round in 0..<300 {
            let n = 1 + round % 200
            let body = (0..<n).map { _ -> UInt8 in state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(state >> 56) }
            // Without a matching trailer, random bytes cannot be a whole RDB.
            #expect(Self.failure(b("REDIS0011") + body, blockSize: 64) != nil, "round \(round)")
            (b("REDIS0011") + body).withUnsafeBytes { RDBReader.fuzz($0) }
        }
    }

    @Test func badChecksumNamesTheTrailer() throws {
        var bytes = B.file(B.key(0, "a", B.string("1")))
        bytes[bytes.count - 1] ^= 1
        let error = try #require(Self.failure(bytes))
        #expect(error.kind == .checksum)
        #expect(error.offset == bytes.count - 8)
        #expect(error.reason.contains("CRC-64"))
        // A changed value byte with the old trailer is found too.
        var changed = B.file(B.key(0, "a", B.string("1")))
        changed[13] = UInt8(ascii: "2")
        #expect(Self.failure(changed)?.kind == .checksum)
    }

    @Test func hostileLengthsFailWithoutAllocating() throws {
        // A 64-bit string length of 2^62 in a 40-byte file.
        let huge = B.file([0] + B.string("k") + [0x81] + B.be(1 << 62, 8))
        let e1 = try #require(Self.failure(huge))
        #expect(e1.kind == .tooLarge || e1.kind == .truncated)
        // A list claiming 2^32 elements.
        let count = B.file([1] + B.string("k") + [0x80] + B.be(UInt64(UInt32.max), 4) + B.string("a"))
        let e2 = try #require(Self.failure(count))
        #expect(e2.kind == .malformed && e2.offset == 12 && e2.reason.contains("element count"))
        // An LZF string claiming to expand to 2^40 bytes, or to more than 7 bytes of LZF can.
        let lzf = B.file([0] + B.string("k") + [0xC3] + B.length(7) + B.length(1 << 40) + B.lzfSample.compressed)
        #expect(Self.failure(lzf)?.kind == .tooLarge)
        let lzfRatio = B.file([0] + B.string("k") + [0xC3] + B.length(7) + B.length(1 << 20) + B.lzfSample.compressed)
        #expect(Self.failure(lzfRatio)?.reason.contains("more than LZF can") == true)
        // The listing's count checks the same bounds (a 2^63 count, a 2^31-byte string, in a few bytes).
        for (type, serialization) in [(RDBValueType.list, [0x81] + B.be(1 << 63, 8)), (.string, [0x80] + B.be(1 << 31, 4)),
                                      (.string, [0xC3, 0x01, 0x80] + B.be(1 << 31, 4) + [0x00])] {
            let hostile = RDBKeyEntry(database: 0, key: b("k"), type: type, expiresAtMs: nil, lruIdle: nil, lfuFrequency: nil,
                                      serialization: serialization, valueOffset: 12, rdbVersion: 11, valkey: false, moduleNote: nil)
            #expect(throws: RDBError.self) { try hostile.elementCount() }
        }
        // A configured maximum is enforced.
        let reader = try RDBReader(source: RDBMemorySource(B.file(B.key(0, "k", B.string([UInt8](repeating: 1, count: 1000))))),
                                   limits: .init(maximumValueBytes: 100, blockSize: 64))
        #expect(throws: RDBError.self) { _ = try reader.next() }
    }

    @Test func unknownTypesAndEncodings() throws {
        let unknown = try #require(Self.failure(B.file([0x2A] + B.string("k"))))
        #expect(unknown.kind == .malformed && unknown.offset == 9 && unknown.reason.contains("42"))
        let badLength = try #require(Self.failure(B.file([0] + B.string("k") + [0x82])))
        #expect(badLength.kind == .malformed && badLength.offset == 12)
        let badString = try #require(Self.failure(B.file([0] + B.string("k") + [0xC7])))
        #expect(badString.kind == .malformed && badString.reason.contains("string encoding"))
        let badContainer = try #require(Self.failure(B.file(B.key(18, "k", B.length(1) + B.length(3) + B.string("x")))))
        #expect(badContainer.reason.contains("container"))
        let preGA = try #require(Self.failure(B.file(B.key(6, "k", B.length(0)))))
        #expect(preGA.kind == .unsupportedType)
    }

    @Test func damagedPackedStructuresAreFoundWhenDecoded() throws {
        var lp = B.listpack(["a", "b"])
        lp[0] += 1   // header total disagrees
        #expect(Self.failure(B.file(B.key(20, "k", B.string(lp))))?.reason.contains("header says") == true)
        var lp2 = B.listpack(["abc"])
        lp2[lp2.count - 2] = 9   // wrong back length
        #expect(Self.failure(B.file(B.key(20, "k", B.string(lp2))))?.reason.contains("back length") == true)
        var zl = B.ziplist(["a", 5])
        zl[8] = 9    // count disagrees
        #expect(Self.failure(B.file(B.key(10, "k", B.string(zl))))?.kind == .malformed)
        let intset = B.intset([1, 2], width: 3)
        #expect(Self.failure(B.file(B.key(11, "k", B.string(intset))))?.reason.contains("width") == true)
        let badLZF: [UInt8] = [0x02, 0x61, 0x62, 0x63, 0xE0, 0x00, 0x09]   // refers 10 bytes back from byte 3
        let e = try #require(Self.failure(B.file(B.key(0, "k", B.lzfString(badLZF, plainLength: 12)))))
        #expect(e.kind == .malformed && e.offset == 12 && e.reason.contains("LZF"))
    }

    @Test func versionsAndMagic() throws {
        let newer = try #require(Self.failure(B.file(version: 13, [])))
        #expect(newer.kind == .unsupportedVersion && newer.reason.contains("newer"))
        let valkeyNewer = try #require(Self.failure(B.file(version: 81, valkey: true, [])))
        #expect(valkeyNewer.kind == .unsupportedVersion)
        #expect(Self.failure(B.file(version: 8, []))?.kind == .unsupportedVersion)
        for v in 9...12 { #expect(Self.failure(B.file(version: v, [])) == nil, "version \(v)") }
        let notRDB = try #require(Self.failure(b("*1\r\n$4\r\nPING\r\n")))
        #expect(notRDB.kind == .malformed && notRDB.offset == 0)
        let letters = try #require(Self.failure(b("REDIS00x1") + [0xFF] + B.le(0, 8)))
        #expect(letters.offset == 7)
    }

    @Test func errorsRepeatAfterTheFirst() throws {
        let reader = try RDBReader(source: RDBMemorySource(B.file([0x2A])))
        let first = #expect(throws: RDBError.self) { _ = try reader.next() }
        let second = #expect(throws: RDBError.self) { _ = try reader.next() }
        #expect(first == second)
    }

    @Test func checkReportsCountsAndTheFirstError() {
        let good = RDBCheck.check(RDBMemorySource(Self.sample))
        #expect(good.isValid && good.version == 11)
        #expect(good.aux.first?.name == "redis-ver")
        #expect(good.databases.map(\.number) == [1])
        #expect(good.databases[0].keysByType == ["string": 2, "list": 1, "stream": 1])
        #expect(good.databases[0].expiringKeys == 1)
        var damaged = Self.sample
        damaged.removeLast(3)
        let bad = RDBCheck.check(RDBMemorySource(damaged))
        #expect(!bad.isValid && bad.problem?.kind == .truncated)
        #expect(bad.keys == 4)
    }
}
