import RDB

/// Checks an RDB file's CRC-64 trailer as its bytes stream by (the collector copying a
/// base): the checksum of every byte but the last eight, compared with those eight
/// (little-endian). Eight zero bytes mean `rdbchecksum no`: nothing to compare.
struct RDBStreamingChecksum {
    private var crc = CRC64()
    /// The last bytes seen (at most 8): the trailer, once the stream ends.
    private var tail: [UInt8] = []
    /// Bytes seen.
    private(set) var count = 0

    /// Adds the next bytes.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        count += bytes.count
        if bytes.count >= 8 {
            tail.withUnsafeBytes { crc.update($0) }
            crc.update(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - 8)]))
            tail = Array(bytes[(bytes.count - 8)...])
        } else {
            tail += bytes
            let spill = tail.count - 8
            if spill > 0 {
                tail.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[..<spill])) }
                tail.removeFirst(spill)
            }
        }
    }

    /// Nil when the trailer matches (or is disabled); otherwise why not.
    func problem() -> String? {
        guard count >= 9 + 1 + 8 else { return "it has \(count) bytes, too few for an RDB (header, EOF opcode and CRC-64)" }
        let trailer = tail.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard trailer != 0, trailer != crc.value else { return nil }
        return "its CRC-64 trailer is 0x\(String(trailer, radix: 16)) but its bytes give 0x\(String(crc.value, radix: 16))"
    }
}
