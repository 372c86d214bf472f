import Testing

@testable import RDB

/// Every encoding, hand-built the way Redis writes it, read back to the same elements.
@Suite struct RDBEncodingTests {
    typealias B = RDBBuilder

    static func only(_ type: UInt8, _ value: [UInt8], version: Int = 11, blockSize: Int = 1 << 20) throws -> (RDBKeyEntry, RDBValue) {
        let keys = try B.keys(B.file(version: version, B.key(type, "k", value)), blockSize: blockSize)
        #expect(keys.count == 1)
        let key = try #require(keys.first)
        #expect(key.key == b("k"))
        #expect(key.serialization == value, "the serialization is the value's exact bytes")
        let decoded = try key.value()
        // The cheap count of listings agrees with the decoded value.
        if case .stream(let s) = decoded {
            #expect(try key.elementCount() == Int(s.length))
        } else {
            #expect(try key.elementCount() == decoded.count, "\(key.type)")
        }
        return (key, decoded)
    }

    @Test func crc64SlicedMatchesByteAtATime() {
        #expect(CRC64.checksum(b("123456789")) == 0xe9c6d914c4b8d9ca)
        var state: UInt64 = 0x9E3779B97F4A7C15
        let bytes = (0..<1000).map { _ -> UInt8 in state = state &* 6364136223846793005 &+ 1; return UInt8(state >> 56) }
        for cut in [0, 1, 7, 8, 9, 63, 1000] {
            var slow = CRC64()
            for x in bytes[..<cut] { slow.update(x) }
            #expect(CRC64.checksum(Array(bytes[..<cut])) == slow.value, "cut \(cut)")
        }
    }

    @Test func stringsRawIntAndLZF() throws {
        #expect(try Self.only(0, B.string("hello")).1 == .string(b("hello")))
        #expect(try Self.only(0, B.intString(-5)).1 == .string(b("-5")))
        #expect(try Self.only(0, B.intString(1234)).1 == .string(b("1234")))
        #expect(try Self.only(0, B.intString(-70000)).1 == .string(b("-70000")))
        let lzf = B.lzfString(B.lzfSample.compressed, plainLength: B.lzfSample.plain.count)
        #expect(try Self.only(0, lzf).1 == .string(B.lzfSample.plain))
        // 14-bit and 32-bit lengths.
        let medium = [UInt8](repeating: 0x61, count: 300)
        #expect(try Self.only(0, B.string(medium)).1 == .string(medium))
        let large = [UInt8](repeating: 0x62, count: 20000)
        #expect(try Self.only(0, [0x80] + B.be(20000, 4) + large).1 == .string(large))
        #expect(try Self.only(0, [0x81] + B.be(3, 8) + b("abc")).1 == .string(b("abc")))
    }

    @Test func plainCollections() throws {
        let list = B.length(3) + B.string("a") + B.intString(7) + B.string("c")
        #expect(try Self.only(1, list).1 == .list([b("a"), b("7"), b("c")]))
        #expect(try Self.only(2, list).1 == .set([b("a"), b("7"), b("c")]))
        let hash = B.length(2) + B.string("f1") + B.string("v1") + B.string("f2") + B.intString(2)
        #expect(try Self.only(4, hash).1 == .hash([RDBHashField(field: b("f1"), value: b("v1")), RDBHashField(field: b("f2"), value: b("2"))]))
        let zset = B.length(4) + B.string("a") + [3] + b("1.5") + B.string("b") + [254] + B.string("c") + [255] + B.string("d") + [1] + b("2")
        let z = try Self.only(3, zset).1
        #expect(z == .sortedSet([.init(member: b("a"), score: 1.5), .init(member: b("b"), score: .infinity),
                                 .init(member: b("c"), score: -.infinity), .init(member: b("d"), score: 2)]))
        let zset2 = B.length(1) + B.string("m") + B.le((-0.25).bitPattern, 8)
        #expect(try Self.only(5, zset2).1 == .sortedSet([.init(member: b("m"), score: -0.25)]))
    }

    static let mixed: [B.Item] = ["a", 0, 12, 13, -1, 127, 128, -4096, 4095, 30000, -30000, 1_048_576, -4_194_304,
                                  1_073_741_824, -2_147_483_648, 1_099_511_627_776, .int(Int64.min), .int(Int64.max),
                                  .string([UInt8](repeating: 0x78, count: 70)),
                                  .string([UInt8](repeating: 0x79, count: 5000)), ""]
    static var mixedText: [[UInt8]] {
        mixed.map { if case .int(let v) = $0 { b(String(v)) } else if case .string(let s) = $0 { s } else { [] } }
    }

    @Test func ziplistAndListpackEveryElementEncoding() throws {
        #expect(try Self.only(10, B.string(B.ziplist(Self.mixed))).1 == .list(Self.mixedText))
        #expect(try Self.only(20, B.string(B.listpack(Self.mixed))).1 == .set(Self.mixedText))
    }

    @Test func intsetsOfEachWidth() throws {
        #expect(try Self.only(11, B.string(B.intset([-2, 1, 300], width: 2))).1 == .set([b("-2"), b("1"), b("300")]))
        #expect(try Self.only(11, B.string(B.intset([-70000, 5], width: 4))).1 == .set([b("-70000"), b("5")]))
        #expect(try Self.only(11, B.string(B.intset([Int64.min, 1 << 40], width: 8))).1 == .set([b(String(Int64.min)), b(String(1 << 40))]))
    }

    @Test func packedHashesAndSortedSets() throws {
        let pairs: [B.Item] = ["f", "v", "n", 42]
        let fields = [RDBHashField(field: b("f"), value: b("v")), RDBHashField(field: b("n"), value: b("42"))]
        #expect(try Self.only(13, B.string(B.ziplist(pairs))).1 == .hash(fields))
        #expect(try Self.only(16, B.string(B.listpack(pairs))).1 == .hash(fields))
        let scored: [B.Item] = ["a", 1, "b", .string(b("2.5"))]
        let members: [RDBScoredMember] = [.init(member: b("a"), score: 1), .init(member: b("b"), score: 2.5)]
        #expect(try Self.only(12, B.string(B.ziplist(scored))).1 == .sortedSet(members))
        #expect(try Self.only(17, B.string(B.listpack(scored))).1 == .sortedSet(members))
        // zipmap: count, then field length, field, value length, free bytes, value (+ free), 0xFF.
        let zipmap: [UInt8] = [2, 1] + b("f") + [1, 0] + b("v") + [1] + b("g") + [2, 1] + b("wx") + [0, 0xFF]
        #expect(try Self.only(9, B.string(zipmap)).1 == .hash([RDBHashField(field: b("f"), value: b("v")), RDBHashField(field: b("g"), value: b("wx"))]))
    }

    @Test func hashesWithFieldTTLs() throws {
        // Type 24: minimum expiry, then [ttl relative to it + 1 | 0][field][value].
        let meta = B.le(1_000_000, 8) + B.length(2) + B.length(0) + B.string("a") + B.string("1") + B.length(6) + B.string("b") + B.string("2")
        #expect(try Self.only(24, meta, version: 12).1 == .hash([RDBHashField(field: b("a"), value: b("1")),
                                                                  RDBHashField(field: b("b"), value: b("2"), expiresAtMs: 1_000_005)]))
        // Type 25: minimum expiry, then a listpack of field, value, absolute ttl (0: none).
        let lpex = B.le(1_000_000, 8) + B.string(B.listpack(["a", "1", 0, "b", "2", 1_700_000_000_000]))
        #expect(try Self.only(25, lpex, version: 12).1 == .hash([RDBHashField(field: b("a"), value: b("1")),
                                                                  RDBHashField(field: b("b"), value: b("2"), expiresAtMs: 1_700_000_000_000)]))
    }

    @Test func quicklistsV1AndV2() throws {
        let v1 = B.length(2) + B.string(B.ziplist(["a", 1])) + B.string(B.ziplist(["b"]))
        #expect(try Self.only(14, v1).1 == .list([b("a"), b("1"), b("b")]))
        let big = [UInt8](repeating: 0x7A, count: 100)
        let v2 = B.length(3) + B.length(2) + B.string(B.listpack(["a", 2])) + B.length(1) + B.string(big) + B.length(2) + B.string(B.listpack(["c"]))
        #expect(try Self.only(18, v2).1 == .list([b("a"), b("2"), big, b("c")]))
    }

    static func streamBytes(type: UInt8) -> [UInt8] {
        // One node, master ID 1000-0, fields f1 f2; an entry with the master's fields
        // (flag 2), a deleted one (flag 1) and one with its own field.
        let node = B.listpack([2, 1, 2, "f1", "f2", 0,
                               2, 0, 0, "v1", "v2", 5,
                               3, 1, 0, "x", "y", 5,
                               0, 2, 1, 1, "g", "h", 6])
        var v = B.length(1) + B.string(B.be(1000, 8) + B.be(0, 8)) + B.string(node)
        v += B.length(2) + B.length(1002) + B.length(1)                       // length, last ID
        if type >= 19 { v += B.length(1000) + B.length(0) + B.length(1001) + B.length(0) + B.length(3) }
        v += B.length(1) + B.string("grp") + B.length(1000) + B.length(0)     // one group
        if type >= 19 { v += B.length(1) }
        v += B.length(1) + B.be(1000, 8) + B.be(0, 8) + B.le(1_700_000_000_123, 8) + B.length(2)
        v += B.length(1) + B.string("alice") + B.le(1_700_000_000_200, 8)
        if type >= 21 { v += B.le(1_700_000_000_100, 8) }
        v += B.length(1) + B.be(1000, 8) + B.be(0, 8)
        return v
    }

    @Test(arguments: [15, 19, 21] as [UInt8]) func streamsWithGroups(type: UInt8) throws {
        guard case .stream(let s) = try Self.only(type, Self.streamBytes(type: type)).1 else {
            Issue.record("not a stream")
            return
        }
        #expect(s.entries.map(\.id) == [RDBStreamID(ms: 1000, seq: 0), RDBStreamID(ms: 1002, seq: 1)])
        #expect(s.entries[0].fields == [RDBHashField(field: b("f1"), value: b("v1")), RDBHashField(field: b("f2"), value: b("v2"))])
        #expect(s.entries[1].fields == [RDBHashField(field: b("g"), value: b("h"))])
        #expect(s.length == 2 && s.lastID == RDBStreamID(ms: 1002, seq: 1))
        #expect(s.entriesAdded == (type >= 19 ? 3 : nil))
        #expect(s.groups.count == 1)
        let g = s.groups[0]
        #expect(g.name == b("grp") && g.entriesRead == (type >= 19 ? 1 : nil))
        #expect(g.pending == [.init(id: RDBStreamID(ms: 1000, seq: 0), deliveryTimeMs: 1_700_000_000_123, deliveryCount: 2)])
        #expect(g.consumers.map(\.name) == [b("alice")])
        #expect(g.consumers[0].activeTimeMs == (type >= 21 ? 1_700_000_000_100 : nil))
        #expect(g.consumers[0].pending == [RDBStreamID(ms: 1000, seq: 0)])
    }

    @Test func moduleValuesAndAuxAreSkippedWithANote() throws {
        // Module ID for the name "hellotype" is built by hand: nine 6-bit characters, then version 3.
        let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var id: UInt64 = 0
        for c in b("hellotype") { id = id << 6 | UInt64(charset.firstIndex(of: c)!) }
        id = id << 10 | 3
        let opcodes = B.length(2) + B.length(7) + B.length(1) + B.length(9) + B.length(3) + B.le(0, 4) + B.length(4) + B.le(0, 8)
            + B.length(5) + B.string("payload") + B.length(0)
        let value = B.length(id) + opcodes
        let moduleAux: [UInt8] = [0xF7] + B.length(id) + B.length(2) + B.length(2) + B.length(5) + B.string("aux") + B.length(0)
        let (entries, _) = try B.read(B.file(moduleAux + B.key(7, "m", value) + B.key(0, "after", B.string("x"))))
        guard case .moduleAux(let note) = entries[0] else { Issue.record("expected module aux, got \(entries[0])"); return }
        #expect(note.contains("hellotype"))
        guard case .key(let m) = entries[1], case .key(let after) = entries[2] else { Issue.record("keys missing"); return }
        #expect(m.moduleNote?.contains("hellotype") == true)
        #expect(try m.value() == .module(RDBModuleValue(moduleID: id)))
        #expect(RDBModuleValue(moduleID: id).typeName == "hellotype" && RDBModuleValue(moduleID: id).encodingVersion == 3)
        #expect(after.key == b("after"))
    }

    @Test func auxDatabasesExpiriesAndEvictionData() throws {
        let body: [UInt8] = [0xFA] + B.string("redis-ver") + B.string("7.2.4") + [0xFA] + B.string("redis-bits") + B.intString(64)
            + [0xFE] + B.length(0) + [0xFB] + B.length(2) + B.length(1)
            + [0xFC] + B.le(1_700_000_000_500, 8) + B.key(0, "a", B.string("1"))
            + [0xFE] + B.length(5) + [0xFD] + B.le(1_700_000_000, 4) + [0xF8] + B.length(77) + B.key(0, "b", B.string("2"))
            + [0xF9, 9] + B.key(0, "c", B.string("3")) + [0xF5] + B.string("#!lua name=lib") + [0xF4] + B.length(3) + B.length(1) + B.length(0)
        let (entries, reader) = try B.read(B.file(body))
        guard case .aux(let n1, let v1) = entries[0], case .aux(_, let v2) = entries[1] else { Issue.record("aux"); return }
        #expect(n1 == b("redis-ver") && v1 == b("7.2.4") && v2 == b("64"))
        let keys = entries.compactMap { if case .key(let k) = $0 { k } else { nil } }
        #expect(keys.map(\.database) == [0, 5, 5])
        #expect(keys.map(\.expiresAtMs) == [1_700_000_000_500, 1_700_000_000_000, nil])
        #expect(keys.map(\.lruIdle) == [nil, 77, nil])
        #expect(keys.map(\.lfuFrequency) == [nil, nil, 9])
        // Where each expiry's opcode is, for a copy that moves it (--ttl-as-of-target through a temporary server).
        let file = B.file(body)
        #expect(keys[0].expiryOffset.map { file[$0] } == 0xFC && keys[1].expiryOffset.map { file[$0] } == 0xFD && keys[2].expiryOffset == nil)
        #expect(keys[0].expiryOffset.map { Array(file[($0 + 1)..<($0 + 9)]) } == B.le(1_700_000_000_500, 8))
        #expect(entries.contains { if case .function(let code) = $0 { code == b("#!lua name=lib") } else { false } })
        #expect(entries.contains { if case .slotInfo(3, 1, 0) = $0 { true } else { false } })
        #expect(entries.contains { if case .resizeDB(2, 1) = $0 { true } else { false } })
        guard case .verified = reader.checksum else { Issue.record("checksum \(String(describing: reader.checksum))"); return }
        #expect(reader.endOffset == B.file(body).count)
    }

    @Test func anAOFTailAfterThePreambleIsLeftAlone() throws {
        let rdb = B.file(B.key(0, "a", B.string("1")))
        let (entries, reader) = try B.read(rdb + b("*1\r\n$4\r\nPING\r\n"), blockSize: 64)
        #expect(entries.count == 1)
        #expect(reader.endOffset == rdb.count)
        #expect(try reader.next() == nil)
    }

    @Test func disabledChecksumAndValkeyMagicAreAccepted() throws {
        let (_, reader) = try B.read(B.file(B.key(0, "a", B.string("1")), checksum: false))
        #expect(reader.checksum == .notWritten)
        let (entries, valkey) = try B.read(B.file(version: 80, valkey: true, B.key(0, "a", B.string("1"))))
        #expect(valkey.valkey && valkey.version == 80 && entries.count == 1)
    }

    @Test func smallBlocksGiveTheSameEntriesAndBoundedMemory() throws {
        let big = [UInt8](repeating: 0x41, count: 20_000)
        var body: [UInt8] = []
        for i in 0..<5000 { body += B.key(0, "k\(i)", B.string("value \(i)")) }
        body += B.key(0, "big", B.string(big))
        body += B.key(21, "s", Self.streamBytes(type: 21))
        let file = B.file(body)
        for block in [64, 100, 4096] {
            let reader = try RDBReader(source: RDBMemorySource(file), limits: .init(blockSize: block))
            var keys: [RDBKeyEntry] = []
            while let e = try reader.next() { if case .key(let k) = e { keys.append(k) } }
            #expect(keys.count == 5002)
            #expect(try keys[5000].value() == .string(big))
            #expect(try keys[5].value() == .string(b("value 5")))
            // The buffer grew to hold the largest value, not the file.
            #expect(reader.walker.input.storage.bytes.count < 2 * (big.count + 16) + 2 * block)
            #expect(file.count > 80_000)
        }
    }
}
