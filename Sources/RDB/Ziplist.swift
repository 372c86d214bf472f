/// Decodes a ziplist (redis/redis src/ziplist.c, RDB types 10, 12, 13 and quicklist v1
/// nodes): a 10-byte header (total bytes, tail offset, count), entries each starting
/// with the previous entry's length and an encoding, and 0xFF.
enum Ziplist {
    static func elements(_ blob: PackedBlob) throws(RDBError) -> [PackedElement] {
        let b = blob.bytes
        try blob.requireHeader(10)
        let declared = try blob.littleEndian(8, 2)
        var out: [PackedElement] = []
        var p = 10
        while true {
            guard p < b.count else { throw blob.error(p, "no end byte 0xFF") }
            if b[p] == 0xFF {
                guard p == b.count - 1 else { throw blob.error(p, "end byte 0xFF before the last byte") }
                break
            }
            p += b[p] < 254 ? 1 : 5   // previous entry's length
            guard p < b.count else { throw blob.error(p, "an entry is cut short") }
            let e = b[p]
            switch e >> 6 {
            case 0:
                let n = Int(e & 0x3F)
                out.append(.bytes(try blob.slice(p + 1, n))); p += 1 + n
            case 1:
                let n = Int(UInt64(e & 0x3F) << 8 | (try blob.littleEndian(p + 1, 1)))
                out.append(.bytes(try blob.slice(p + 2, n))); p += 2 + n
            case 2:
                guard e == 0x80 else { throw blob.error(p, "bad string encoding 0x\(String(e, radix: 16))") }
                let raw = try blob.littleEndian(p + 1, 4)
                let n = Int(raw.byteSwapped >> 32)   // big-endian
                out.append(.bytes(try blob.slice(p + 5, n))); p += 5 + n
            default:
                switch e {
                case 0xC0: out.append(.int(signExtend(try blob.littleEndian(p + 1, 2), bits: 16))); p += 3
                case 0xD0: out.append(.int(signExtend(try blob.littleEndian(p + 1, 4), bits: 32))); p += 5
                case 0xE0: out.append(.int(Int64(bitPattern: try blob.littleEndian(p + 1, 8)))); p += 9
                case 0xF0: out.append(.int(signExtend(try blob.littleEndian(p + 1, 3), bits: 24))); p += 4
                case 0xFE: out.append(.int(signExtend(try blob.littleEndian(p + 1, 1), bits: 8))); p += 2
                case 0xF1...0xFD: out.append(.int(Int64(e & 0x0F) - 1)); p += 1
                default: throw blob.error(p, "unknown entry encoding 0x\(String(e, radix: 16))")
                }
            }
        }
        if declared != 65535, declared != UInt64(out.count) {
            throw blob.error(8, "its header counts \(declared) entries, it holds \(out.count)")
        }
        return out
    }
}

/// Decodes an intset (redis/redis src/intset.c, RDB type 11): element width (2, 4 or 8),
/// count, then the integers, little-endian.
enum Intset {
    static func elements(_ blob: PackedBlob) throws(RDBError) -> [PackedElement] {
        let width = try blob.littleEndian(0, 4)
        guard width == 2 || width == 4 || width == 8 else { throw blob.error(0, "element width \(width), expected 2, 4 or 8") }
        let count = try blob.littleEndian(4, 4)
        guard UInt64(blob.bytes.count) == 8 + count * width else {
            throw blob.error(4, "\(count) elements of \(width) bytes need \(8 + count * width) bytes, the string holds \(blob.bytes.count)")
        }
        let w = Int(width)
        return try (0..<Int(count)).map { (i: Int) throws(RDBError) -> PackedElement in
            .int(signExtend(try blob.littleEndian(8 + i * w, w), bits: 8 * w))
        }
    }
}

/// Decodes a zipmap (RDB type 9, Redis before 2.6): a count byte, then field and value
/// lengths (one byte below 254, else 254 and four bytes), a free-byte count after each
/// value's length, and 0xFF.
enum Zipmap {
    static func elements(_ blob: PackedBlob) throws(RDBError) -> [PackedElement] {
        let b = blob.bytes
        var out: [PackedElement] = []
        var p = 1
        func length(_ p: inout Int) throws(RDBError) -> Int {
            guard p < b.count else { throw blob.error(p, "a length is cut short") }
            if b[p] < 254 { p += 1; return Int(b[p - 1]) }
            guard b[p] == 254 else { throw blob.error(p, "unexpected end byte inside an entry") }
            let n = try blob.littleEndian(p + 1, 4)
            p += 5
            return Int(n)
        }
        while true {
            guard p < b.count else { throw blob.error(p, "no end byte 0xFF") }
            if b[p] == 0xFF { break }
            let fieldLength = try length(&p)
            out.append(.bytes(try blob.slice(p, fieldLength))); p += fieldLength
            let valueLength = try length(&p)
            guard p < b.count else { throw blob.error(p, "the free-byte count is cut short") }
            let free = Int(b[p]); p += 1
            out.append(.bytes(try blob.slice(p, valueLength))); p += valueLength + free
        }
        return out
    }
}
