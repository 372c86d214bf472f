import RDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks an RDB at the start of a file (a multi-part AOF's `.base.rdb`, or the RDB
/// preamble of a single-file AOF) without decoding its objects: the `REDIS` magic and a
/// four-digit version, then the end of the RDB, which is the EOF opcode 0xFF followed by
/// the little-endian CRC-64 of every byte before the checksum.
///
/// The end is found in one streaming pass: the CRC is kept up to each byte, and at every
/// 0xFF the next eight bytes are compared with it. A match by chance has a probability of
/// 2^-64 per 0xFF, so the first match is where the RDB ends, and commands may follow.
/// With `rdbchecksum no` Redis writes eight zero bytes; that end is accepted when it is
/// followed by the end of the file, `*` or `#`.
public enum RDBTrailerCheck {
    /// What was found.
    public struct Result: Sendable, Hashable {
        /// The RDB format version from the header (`REDIS0010` -> 10).
        public var version: Int
        /// Bytes from the start of the file to the end of the checksum: where AOF commands
        /// (if any) begin.
        public var length: Int
        /// False when the file was written with `rdbchecksum no` (zero checksum).
        public var checksummed: Bool
    }

    /// True when `prefix` (the first bytes of a file) starts with `REDIS`.
    public static func looksLikeRDB(_ prefix: some Collection<UInt8>) -> Bool {
        Array(prefix.prefix(5)) == Array("REDIS".utf8)
    }

    /// Checks the RDB at the start of `path`. Throws `.malformed` for a bad header,
    /// `.truncated` when no valid end is found, `.io` when the file cannot be read.
    public static func check(path: String, blockSize: Int = 1 << 20) throws(AOFError) -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AOFError(.io, "cannot open: \(String(cString: strerror(errno)))", file: path) }
        defer { close(fd) }
        var pending: [UInt8] = []   // bytes read but not yet added to the CRC
        var base = 0                // file offset of pending[0]
        var crc = CRC64()
        var eof = false
        var version = -1
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(blockSize, 4096), alignment: 16)
        defer { block.deallocate() }
        while true {
            if !eof {
                let n = read(fd, block.baseAddress, block.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AOFError(.io, "cannot read: \(String(cString: strerror(errno)))", file: path, offset: base + pending.count)
                }
                if n == 0 { eof = true } else { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: block[0..<n])) }
            }
            if version < 0 {
                guard pending.count >= 9 || eof else { continue }
                version = try header(pending, path: path)
            }
            // Each position needs the eight bytes after it; the rest waits for more input.
            let stop = eof ? pending.count : pending.count - 8
            var i = 0
            var found: Result?
            pending.withUnsafeBufferPointer { p in
                while i < stop {
                    let b = p[i]
                    crc.update(b)
                    if b == 0xFF, base + i >= 9, i + 8 < p.count {
                        var stored: UInt64 = 0
                        for k in 0..<8 { stored |= UInt64(p[i + 1 + k]) << (8 * UInt64(k)) }
                        if stored == crc.value {
                            found = Result(version: version, length: base + i + 9, checksummed: true)
                            return
                        }
                        if stored == 0 {
                            let after = i + 9
                            if after == p.count && eof || after < p.count && (p[after] == UInt8(ascii: "*") || p[after] == UInt8(ascii: "#")) {
                                found = Result(version: version, length: base + after, checksummed: false)
                                return
                            }
                        }
                    }
                    i += 1
                }
            }
            if let found { return found }
            if eof {
                throw AOFError(.truncated, "the RDB (version \(version)) has no end: no EOF opcode 0xFF followed by a matching CRC-64 in \(base + pending.count) bytes; it is truncated or corrupted",
                               file: path, offset: base + pending.count)
            }
            pending.removeFirst(i)
            base += i
        }
    }

    /// Validates `REDIS` and four version digits; returns the version.
    static func header(_ bytes: [UInt8], path: String) throws(AOFError) -> Int {
        guard bytes.count >= 9 else {
            throw AOFError(.truncated, "the RDB header is cut short: \(bytes.count) bytes, expected REDIS and four version digits", file: path, offset: bytes.count)
        }
        guard looksLikeRDB(bytes) else {
            throw AOFError(.malformed, "not an RDB file: it does not start with the magic REDIS", file: path, offset: 0)
        }
        var version = 0
        for k in 5..<9 {
            let b = bytes[k]
            guard b >= 0x30 && b <= 0x39 else {
                throw AOFError(.malformed, "bad RDB version in the header: expected four digits after REDIS, found \(AOFScanner.describe(b))", file: path, offset: k)
            }
            version = version * 10 + Int(b - 0x30)
        }
        guard version >= 1 else { throw AOFError(.malformed, "bad RDB version 0 in the header", file: path, offset: 5) }
        return version
    }
}
