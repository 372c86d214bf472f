/// The CRC-64 Redis puts at the end of an RDB file and of a DUMP payload (crc64.c: the
/// Jones polynomial, reflected, initial value 0), computed incrementally so a file can be
/// checked as it streams by. `CRC64.checksum("123456789".utf8) == 0xe9c6d914c4b8d9ca`.
///
/// Bulk updates read sixteen bytes per step through sixteen tables ("slicing by 16";
/// Redis's crcspeed.c slices by 8): a byte at a time is several times slower, and a base
/// of many GB is checked as it is read.
public struct CRC64: Sendable, Hashable {
    /// The checksum of the bytes so far.
    public private(set) var value: UInt64 = 0

    /// Starts at 0, as Redis does.
    public init() {}

    /// Adds one byte.
    @inline(__always)
    public mutating func update(_ byte: UInt8) {
        value = Self.table[Int(UInt8(truncatingIfNeeded: value) ^ byte)] ^ (value >> 8)
    }

    /// Adds bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var v = value
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            var i = 0
            while i + 16 <= count {
                v ^= UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                v = t[15 * 256 + Int(v & 0xFF)] ^ t[14 * 256 + Int((v >> 8) & 0xFF)]
                    ^ t[13 * 256 + Int((v >> 16) & 0xFF)] ^ t[12 * 256 + Int((v >> 24) & 0xFF)]
                    ^ t[11 * 256 + Int((v >> 32) & 0xFF)] ^ t[10 * 256 + Int((v >> 40) & 0xFF)]
                    ^ t[9 * 256 + Int((v >> 48) & 0xFF)] ^ t[8 * 256 + Int(v >> 56)]
                    ^ t[7 * 256 + Int(w & 0xFF)] ^ t[6 * 256 + Int((w >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((w >> 16) & 0xFF)] ^ t[4 * 256 + Int((w >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((w >> 32) & 0xFF)] ^ t[2 * 256 + Int((w >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((w >> 48) & 0xFF)] ^ t[Int(w >> 56)]
                i += 16
            }
            while i < count {
                v = t[Int(UInt8(truncatingIfNeeded: v) ^ base.load(fromByteOffset: i, as: UInt8.self))] ^ (v >> 8)
                i += 1
            }
        }
        value = v
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var crc = CRC64()
        let done: Void? = bytes.withContiguousStorageIfAvailable { crc.update(UnsafeRawBufferPointer($0)) }
        if done == nil { for b in bytes { crc.update(b) } }
        return crc.value
    }

    /// The reflected Jones polynomial 0xad93d23594c935a9, bit-reversed for the
    /// least-significant-bit-first table.
    static let table: [UInt64] = {
        let reflected: UInt64 = 0x95ac9329ac4bc9b5
        return (0..<256).map { i -> UInt64 in
            var crc = UInt64(i)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflected : crc >> 1 }
            return crc
        }
    }()

    /// Sixteen tables of 256, flat: table k gives the CRC of a byte followed by k zero bytes.
    static let tables: [UInt64] = {
        var t = [UInt64](repeating: 0, count: 16 * 256)
        for i in 0..<256 { t[i] = table[i] }
        for k in 1..<16 {
            for i in 0..<256 {
                let previous = t[(k - 1) * 256 + i]
                t[k * 256 + i] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return t
    }()
}
