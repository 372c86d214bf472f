/// Decodes a listpack (redis/redis src/listpack.c): a 6-byte header (total bytes, element
/// count or 65535), elements each followed by their own length backwards, and 0xFF.
/// Every length is checked against the blob: damaged bytes throw, never read past it.
enum Listpack {
    static func elements(_ blob: PackedBlob) throws(RDBError) -> [PackedElement] {
        let b = blob.bytes
        try blob.requireHeader(6)
        let declared = try blob.littleEndian(4, 2)
        var out: [PackedElement] = []
        if declared != 65535 { out.reserveCapacity(Int(declared)) }
        var p = 6
        while true {
            guard p < b.count else { throw blob.error(p, "no end byte 0xFF") }
            let e = b[p]
            if e == 0xFF {
                guard p == b.count - 1 else { throw blob.error(p, "end byte 0xFF before the last byte") }
                break
            }
            let start = p
            let element: PackedElement
            if e & 0x80 == 0 {
                element = .int(Int64(e & 0x7F)); p += 1
            } else if e & 0xC0 == 0x80 {
                let n = Int(e & 0x3F)
                element = .bytes(try blob.slice(p + 1, n)); p += 1 + n
            } else if e & 0xE0 == 0xC0 {
                let v = UInt64(e & 0x1F) << 8 | (try blob.littleEndian(p + 1, 1))
                element = .int(signExtend(v, bits: 13)); p += 2
            } else if e & 0xF0 == 0xE0 {
                let n = Int(UInt64(e & 0x0F) << 8 | (try blob.littleEndian(p + 1, 1)))
                element = .bytes(try blob.slice(p + 2, n)); p += 2 + n
            } else {
                switch e {
                case 0xF0:
                    let n = Int(try blob.littleEndian(p + 1, 4))
                    element = .bytes(try blob.slice(p + 5, n)); p += 5 + n
                case 0xF1: element = .int(signExtend(try blob.littleEndian(p + 1, 2), bits: 16)); p += 3
                case 0xF2: element = .int(signExtend(try blob.littleEndian(p + 1, 3), bits: 24)); p += 4
                case 0xF3: element = .int(signExtend(try blob.littleEndian(p + 1, 4), bits: 32)); p += 5
                case 0xF4: element = .int(Int64(bitPattern: try blob.littleEndian(p + 1, 8))); p += 9
                default: throw blob.error(p, "unknown element encoding 0x\(String(e, radix: 16))")
                }
            }
            // The backlen: the element's length, 7 bits a byte, most significant first
            // (the last byte, read first when walking backwards, holds the low bits).
            let size = p - start
            let backlen = size < 128 ? 1 : size < 16383 ? 2 : size < 2_097_151 ? 3 : size < 268_435_455 ? 4 : 5
            guard backlen <= b.count - 1 - p else { throw blob.error(p, "the element's back length runs past the end") }
            var stored = 0
            for k in 0..<backlen { stored = stored << 7 | Int(b[p + k] & 0x7F) }
            guard stored == size else { throw blob.error(p, "back length \(stored), the element is \(size) bytes") }
            p += backlen
            out.append(element)
        }
        if declared != 65535, declared != UInt64(out.count) {
            throw blob.error(4, "its header counts \(declared) elements, it holds \(out.count)")
        }
        return out
    }
}
