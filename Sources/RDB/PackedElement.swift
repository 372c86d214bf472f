/// One element of a listpack or ziplist: an integer or bytes.
enum PackedElement {
    case int(Int64)
    case bytes([UInt8])

    /// The element as Redis returns it: integers as decimal text.
    var text: [UInt8] {
        switch self {
        case .int(let v): Array(String(v).utf8)
        case .bytes(let b): b
        }
    }

    /// The integer, or nil for bytes that are not one.
    var integer: Int64? {
        switch self {
        case .int(let v): v
        case .bytes(let b): Int64(String(decoding: b, as: UTF8.self))
        }
    }
}

/// A blob's bytes with the input offset of the blob, for errors.
struct PackedBlob {
    let bytes: [UInt8]
    let offset: Int
    let name: StaticString

    /// An error `at` a position inside the blob.
    func error(_ position: Int, _ reason: String) -> RDBError {
        RDBError(.malformed, at: offset, "\(name) damaged at its byte \(position): \(reason)")
    }

    /// Little-endian unsigned integer of `width` bytes at `position`, in range.
    func littleEndian(_ position: Int, _ width: Int) throws(RDBError) -> UInt64 {
        guard position >= 0, width <= bytes.count - position else {
            throw error(position, "expected \(width) more bytes, the \(name) has \(bytes.count)")
        }
        var v: UInt64 = 0
        for k in 0..<width { v |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
        return v
    }

    /// A header of `size` bytes starting with the blob's total length (listpacks and
    /// ziplists), plus the end byte: the blob must be at least that long, and as long as
    /// its header says.
    func requireHeader(_ size: Int) throws(RDBError) {
        guard bytes.count > size else { throw error(0, "shorter than its \(size)-byte header and end byte") }
        let total = try littleEndian(0, 4)
        guard total == UInt64(bytes.count) else { throw error(0, "its header says \(total) bytes, the string holds \(bytes.count)") }
    }

    /// `count` bytes at `position`, in range.
    func slice(_ position: Int, _ count: Int) throws(RDBError) -> [UInt8] {
        guard position >= 0, count >= 0, count <= bytes.count - position else {
            throw error(position, "an element of \(count) bytes runs past the end (\(bytes.count) bytes)")
        }
        return Array(bytes[position..<position + count])
    }
}

/// Sign-extends the low `bits` of `v`.
@inline(__always)
func signExtend(_ v: UInt64, bits: Int) -> Int64 {
    let shift = UInt64(64 - bits)
    return Int64(bitPattern: v << shift) >> Int64(shift)
}
