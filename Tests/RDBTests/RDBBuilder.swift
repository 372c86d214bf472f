import RDB

/// Hand-built RDB bytes for the tests: each encoding written the way redis/redis writes it.
enum RDBBuilder {
    /// An element of a listpack or ziplist.
    enum Item: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        case string([UInt8])
        case int(Int64)
        init(stringLiteral value: String) { self = .string(Array(value.utf8)) }
        init(integerLiteral value: Int64) { self = .int(value) }
    }

    static func le(_ v: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func be(_ v: UInt64, _ width: Int) -> [UInt8] { le(v, width).reversed() }

    /// rdbSaveLen: 6, 14, 32 or 64 bits.
    static func length(_ n: UInt64) -> [UInt8] {
        if n < 64 { return [UInt8(n)] }
        if n < 16384 { return [UInt8(0x40 | (n >> 8)), UInt8(n & 0xFF)] }
        if n <= UInt64(UInt32.max) { return [0x80] + be(n, 4) }
        return [0x81] + be(n, 8)
    }

    static func string(_ s: [UInt8]) -> [UInt8] { length(UInt64(s.count)) + s }
    static func string(_ s: String) -> [UInt8] { string(Array(s.utf8)) }

    /// An int-encoded string (8, 16 or 32 bits).
    static func intString(_ v: Int64) -> [UInt8] {
        if v >= -128 && v <= 127 { return [0xC0] + le(UInt64(bitPattern: v), 1) }
        if v >= -32768 && v <= 32767 { return [0xC1] + le(UInt64(bitPattern: v), 2) }
        return [0xC2] + le(UInt64(bitPattern: v), 4)
    }

    /// "abcabcabcabc" compressed by hand: 3 literals, then a 9-byte match 3 bytes back.
    static let lzfSample: (compressed: [UInt8], plain: [UInt8]) =
        ([0x02, 0x61, 0x62, 0x63, 0xE0, 0x00, 0x02], Array("abcabcabcabc".utf8))

    static func lzfString(_ compressed: [UInt8], plainLength: Int) -> [UInt8] {
        [0xC3] + length(UInt64(compressed.count)) + length(UInt64(plainLength)) + compressed
    }

    /// lpEncodeBacklen.
    static func backlen(_ l: Int) -> [UInt8] {
        if l <= 127 { return [UInt8(l)] }
        if l < 16383 { return [UInt8(l >> 7), UInt8(l & 127) | 128] }
        return [UInt8(l >> 14), UInt8((l >> 7) & 127) | 128, UInt8(l & 127) | 128]
    }

    static func listpack(_ items: [Item]) -> [UInt8] {
        var body: [UInt8] = []
        for item in items {
            var e: [UInt8]
            switch item {
            case .int(let v):
                if v >= 0 && v <= 127 { e = [UInt8(v)] }
                else if v >= -4096 && v <= 4095 { let u = UInt64(bitPattern: v) & 0x1FFF; e = [0xC0 | UInt8(u >> 8), UInt8(u & 0xFF)] }
                else if v >= -32768 && v <= 32767 { e = [0xF1] + le(UInt64(bitPattern: v), 2) }
                else if v >= -(1 << 23) && v < (1 << 23) { e = [0xF2] + le(UInt64(bitPattern: v), 3) }
                else if v >= Int64(Int32.min) && v <= Int64(Int32.max) { e = [0xF3] + le(UInt64(bitPattern: v), 4) }
                else { e = [0xF4] + le(UInt64(bitPattern: v), 8) }
            case .string(let s):
                if s.count < 64 { e = [0x80 | UInt8(s.count)] + s }
                else if s.count < 4096 { e = [0xE0 | UInt8(s.count >> 8), UInt8(s.count & 0xFF)] + s }
                else { e = [0xF0] + le(UInt64(s.count), 4) + s }
            }
            body += e + backlen(e.count)
        }
        let total = 6 + body.count + 1
        return le(UInt64(total), 4) + le(UInt64(min(items.count, 65535)), 2) + body + [0xFF]
    }

    static func ziplist(_ items: [Item]) -> [UInt8] {
        var body: [UInt8] = []
        var previous = 0
        var tail = 10
        for item in items {
            var e: [UInt8] = previous < 254 ? [UInt8(previous)] : [0xFE] + le(UInt64(previous), 4)
            switch item {
            case .int(let v):
                if v >= 0 && v <= 12 { e += [0xF1 + UInt8(v)] }
                else if v >= -128 && v <= 127 { e += [0xFE] + le(UInt64(bitPattern: v), 1) }
                else if v >= -32768 && v <= 32767 { e += [0xC0] + le(UInt64(bitPattern: v), 2) }
                else if v >= -(1 << 23) && v < (1 << 23) { e += [0xF0] + le(UInt64(bitPattern: v), 3) }
                else if v >= Int64(Int32.min) && v <= Int64(Int32.max) { e += [0xD0] + le(UInt64(bitPattern: v), 4) }
                else { e += [0xE0] + le(UInt64(bitPattern: v), 8) }
            case .string(let s):
                if s.count < 64 { e += [UInt8(s.count)] + s }
                else if s.count < 16384 { e += [0x40 | UInt8(s.count >> 8), UInt8(s.count & 0xFF)] + s }
                else { e += [0x80] + be(UInt64(s.count), 4) + s }
            }
            tail = 10 + body.count
            previous = e.count
            body += e
        }
        let total = 10 + body.count + 1
        return le(UInt64(total), 4) + le(UInt64(tail), 4) + le(UInt64(items.count), 2) + body + [0xFF]
    }

    static func intset(_ values: [Int64], width: Int) -> [UInt8] {
        le(UInt64(width), 4) + le(UInt64(values.count), 4) + values.flatMap { le(UInt64(bitPattern: $0), width) }
    }

    /// A whole file: header, body, EOF and the CRC-64 (or zeros).
    static func file(version: Int = 11, valkey: Bool = false, _ body: [UInt8], checksum: Bool = true) -> [UInt8] {
        let magic = valkey ? "VALKEY" + String(format3(version)) : "REDIS" + String(format4(version))
        var bytes = Array(magic.utf8) + body + [0xFF]
        let crc = checksum ? CRC64.checksum(bytes) : 0
        bytes += le(crc, 8)
        return bytes
    }

    static func format4(_ v: Int) -> String { String(repeating: "0", count: max(0, 4 - String(v).count)) + String(v) }
    static func format3(_ v: Int) -> String { String(repeating: "0", count: max(0, 3 - String(v).count)) + String(v) }

    /// A key entry: type byte, key, value serialization.
    static func key(_ type: UInt8, _ name: String, _ value: [UInt8]) -> [UInt8] { [type] + string(name) + value }

    /// Reads every entry of `bytes`.
    static func read(_ bytes: [UInt8], blockSize: Int = 1 << 20) throws(RDBError) -> (entries: [RDBEntry], reader: RDBReader) {
        let reader = try RDBReader(source: RDBMemorySource(bytes), limits: .init(blockSize: blockSize))
        var entries: [RDBEntry] = []
        while let e = try reader.next() { entries.append(e) }
        return (entries, reader)
    }

    /// The key entries of `bytes`.
    static func keys(_ bytes: [UInt8], blockSize: Int = 1 << 20) throws(RDBError) -> [RDBKeyEntry] {
        try read(bytes, blockSize: blockSize).entries.compactMap { if case .key(let k) = $0 { k } else { nil } }
    }
}

/// The UTF-8 bytes of `s`.
func b(_ s: String) -> [UInt8] { Array(s.utf8) }
