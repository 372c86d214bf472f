/// The CRC-64 Redis puts at the end of an RDB file (crc64.c: the Jones polynomial,
/// reflected, initial value 0), computed incrementally so a file can be checked as it
/// streams by. `CRC64.checksum("123456789".utf8) == 0xe9c6d914c4b8d9ca`.
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
        var v = value
        Self.table.withUnsafeBufferPointer { t in
            for b in bytes { v = t[Int(UInt8(truncatingIfNeeded: v) ^ b)] ^ (v >> 8) }
        }
        value = v
    }

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var crc = CRC64()
        for b in bytes { crc.update(b) }
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
}
