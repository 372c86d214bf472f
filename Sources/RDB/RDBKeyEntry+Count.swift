/// Counting a value's elements without building it: the count a listing shows
/// (``RDBKeyEntry/summary(limits:)``) read from lengths and packed headers, at close to
/// the reader's speed rather than the decoder's.
extension RDBKeyEntry {
    /// Elements of the value: a string's bytes, a list's, set's or sorted set's elements,
    /// a hash's fields, a stream's entries (its stored length), 0 for a module value.
    public func elementCount(limits: RDBReader.Limits = .init()) throws(RDBError) -> Int {
        try withRawBytes(serialization) { (raw: UnsafeRawBufferPointer) throws(RDBError) -> Int in
            var w = RDBValueWalker(input: RDBBytesInput(raw, startingAt: valueOffset), limits: limits,
                                   version: rdbVersion, decode: false)
            return try w.count(of: type)
        }
    }
}

extension RDBValueWalker {
    /// Elements of a value of `type` starting at the input's position.
    mutating func count(of type: RDBValueType) throws(RDBError) -> Int {
        switch type {
        case .string:
            let (value, encoded) = try lengthOrEncoding("a string value")
            guard encoded else {
                guard value <= UInt64(input.remaining) else { throw input.truncated(Int(clamping: value), "a string value") }
                return Int(value)
            }
            switch value {
            case 0, 1, 2:
                let width = 1 << Int(value)
                return String(signExtend(try input.littleEndian(width, "an int-encoded string"), bits: 8 * width)).utf8.count
            case 3:
                let compressed = try length("a compressed length")
                let expanded = try length("an expanded length")
                guard compressed <= UInt64(input.remaining), expanded <= compressed &* 88 &+ 64 else {
                    throw RDBError(.malformed, at: input.offset, "an LZF string of \(compressed) bytes cannot expand to \(expanded)")
                }
                return Int(expanded)
            default:
                throw RDBError(.malformed, at: input.offset - 1, "unknown string encoding \(value) for a string value")
            }
        case .list, .set, .zset, .zset2, .hash, .hashMetadataPreGA, .valkeyHash2:
            return try count("an element count")
        case .hashMetadata:
            _ = try milliseconds("the hash's minimum field expiry")
            return try count("a field count")
        case .hashZipmap, .listZiplist, .setIntset, .zsetZiplist, .hashZiplist, .hashListpack, .zsetListpack,
             .setListpack, .hashListpackExPreGA, .hashListpackEx:
            if type == .hashListpackEx { _ = try milliseconds("the hash's minimum field expiry") }
            let elements = try packedCount(type)
            switch type {
            case .hashZipmap, .zsetZiplist, .hashZiplist, .hashListpack, .zsetListpack: return elements / 2
            case .hashListpackExPreGA, .hashListpackEx: return elements / 3
            default: return elements
            }
        case .listQuicklist, .listQuicklist2:
            var total = 0
            for _ in 0..<(try count("a quicklist node count")) {
                if type == .listQuicklist2, try length("a quicklist container") == 1 {
                    _ = try string("a plain quicklist node")
                    total += 1
                } else {
                    total += try packedCount(type == .listQuicklist ? .listZiplist : .setListpack)
                }
            }
            return total
        case .streamListpacks, .streamListpacks2, .streamListpacks3:
            for _ in 0..<(try count("a stream listpack count", minimumBytes: 2)) {
                _ = try string("a stream node key")
                _ = try string("a stream listpack")
            }
            return Int(clamping: try length("the stream length"))
        case .module2, .modulePreGA:
            return 0
        }
    }

    /// The element count in the header of the packed blob that follows (decompressing it
    /// when LZF-compressed); the elements themselves are walked only when the header's
    /// count is the "unknown" value 65535.
    mutating func packedCount(_ type: RDBValueType) throws(RDBError) -> Int {
        decode = true
        defer { decode = false }
        guard let blob = try blob(Self.blobName(type)) else { return 0 }
        switch type {
        case .setIntset:
            return Int(try blob.littleEndian(4, 4))
        case .hashZipmap:
            let n = try blob.littleEndian(0, 1)
            return n < 254 ? 2 * Int(n) : try Zipmap.elements(blob).count
        case .listZiplist, .zsetZiplist, .hashZiplist:
            try blob.requireHeader(10)
            let n = try blob.littleEndian(8, 2)
            return n < 65535 ? Int(n) : try Ziplist.elements(blob).count
        default:
            try blob.requireHeader(6)
            let n = try blob.littleEndian(4, 2)
            return n < 65535 ? Int(n) : try Listpack.elements(blob).count
        }
    }
}
