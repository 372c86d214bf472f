/// LZF decompression (liblzf's lzf_d.c format, as Redis writes compressed strings): a
/// control byte below 32 starts a run of that many plus one literal bytes; otherwise its
/// top 3 bits (7: plus the next byte) are a match length minus 2 and the rest, with the
/// next byte, how far back the match starts, minus 1.
enum LZF {
    /// The `length` bytes compressed in `input`. Throws (at `offset`) when the input is not
    /// exactly that: a reference before the start, a run past either end.
    static func decompress(_ input: UnsafeRawBufferPointer, length: Int, offset: Int) throws(RDBError) -> [UInt8] {
        func damaged(_ why: String) -> RDBError {
            RDBError(.malformed, at: offset, "LZF-compressed string damaged: \(why)")
        }
        var out = [UInt8](repeating: 0, count: length)
        var o = 0
        var i = 0
        let n = input.count
        try out.withUnsafeMutableBufferPointer { (dst: inout UnsafeMutableBufferPointer<UInt8>) throws(RDBError) in
            while i < n {
                let ctrl = Int(input[i]); i += 1
                if ctrl < 32 {
                    let run = ctrl + 1
                    guard run <= n - i else { throw damaged("a literal run of \(run) bytes passes the end of the input") }
                    guard run <= length - o else { throw damaged("it expands past the stated \(length) bytes") }
                    (dst.baseAddress! + o).update(from: input.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: run)
                    i += run; o += run
                } else {
                    var len = ctrl >> 5
                    if len == 7 {
                        guard i < n else { throw damaged("a match length is cut short") }
                        len += Int(input[i]); i += 1
                    }
                    guard i < n else { throw damaged("a match offset is cut short") }
                    let back = ((ctrl & 0x1F) << 8) + Int(input[i]) + 1; i += 1
                    len += 2
                    guard back <= o else { throw damaged("a match refers \(back) bytes back from output byte \(o)") }
                    guard len <= length - o else { throw damaged("it expands past the stated \(length) bytes") }
                    if back >= len {
                        (dst.baseAddress! + o).update(from: dst.baseAddress! + o - back, count: len)
                    } else {
                        for k in 0..<len { dst[o + k] = dst[o - back + k] }   // overlapping: byte by byte
                    }
                    o += len
                }
            }
        }
        guard o == length else { throw damaged("it expands to \(o) bytes, the stated length is \(length)") }
        return out
    }
}
