/// Where the value walker reads from: the reader's window over a byte source, or one
/// value's bytes in memory. `what` names the thing expected, for error messages.
protocol RDBInput {
    /// The input offset of the next byte.
    var offset: Int { get }
    /// Bytes left in the whole input after `offset`.
    var remaining: Int { get }
    /// The next byte.
    mutating func byte(_ what: StaticString) throws(RDBError) -> UInt8
    /// The next `count` bytes, contiguous; valid until the next call.
    mutating func take(_ count: Int, _ what: StaticString) throws(RDBError) -> UnsafeRawBufferPointer
}

extension RDBInput {
    /// The error for a thing that does not fit in what is left.
    func truncated(_ count: Int, _ what: StaticString) -> RDBError {
        RDBError(.truncated, at: offset, "expected \(count) bytes of \(what), but the input ends \(remaining) bytes later")
    }

    /// A little-endian integer of `width` bytes (1...8), unsigned.
    @inline(__always)
    mutating func littleEndian(_ width: Int, _ what: StaticString) throws(RDBError) -> UInt64 {
        let bytes = try take(width, what)
        var v: UInt64 = 0
        for k in 0..<width { v |= UInt64(bytes[k]) << (8 * UInt64(k)) }
        return v
    }

    /// A big-endian integer of `width` bytes (1...8), unsigned.
    @inline(__always)
    mutating func bigEndian(_ width: Int, _ what: StaticString) throws(RDBError) -> UInt64 {
        let bytes = try take(width, what)
        var v: UInt64 = 0
        for k in 0..<width { v = v << 8 | UInt64(bytes[k]) }
        return v
    }
}

/// One value's bytes in memory; offsets are those of the original input.
struct RDBBytesInput: RDBInput {
    let bytes: UnsafeRawBufferPointer
    let base: Int
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer, startingAt base: Int) {
        self.bytes = bytes
        self.base = base
    }

    var offset: Int { base + position }
    var remaining: Int { bytes.count - position }

    @inline(__always)
    mutating func byte(_ what: StaticString) throws(RDBError) -> UInt8 {
        guard position < bytes.count else { throw truncated(1, what) }
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always)
    mutating func take(_ count: Int, _ what: StaticString) throws(RDBError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - position else { throw truncated(count, what) }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
    }
}

/// The reader's window over a byte source: a buffer refilled block by block. Bytes from
/// `pin` on are kept when it refills (a value whose exact bytes are wanted), so the buffer
/// grows to the largest value, never to the file. The CRC-64 is kept up to date with the
/// bytes as they leave the buffer.
struct RDBStreamInput: RDBInput {
    /// The buffer and the source behind it. Both are constants, so reading them needs no
    /// exclusivity check; growing the buffer makes a new Storage.
    final class Storage {
        let bytes: UnsafeMutableRawBufferPointer
        let source: any RDBByteSource
        init(capacity: Int, source: any RDBByteSource) {
            bytes = .allocate(byteCount: capacity, alignment: 16)
            self.source = source
        }
        deinit { bytes.deallocate() }
    }

    var storage: Storage
    let maximumBuffer: Int
    /// Input offset of storage byte 0.
    var start = 0
    /// Index of the next byte.
    var position = 0
    /// Valid bytes in storage.
    var end = 0
    /// Bytes from this index on survive a refill; Int.max when nothing is pinned.
    var pin = Int.max
    /// Storage bytes before this index are in `crc`.
    var crcIndex = 0
    var crc = CRC64()

    init(source: any RDBByteSource, blockSize: Int, maximumBuffer: Int) {
        self.storage = Storage(capacity: max(blockSize, 64), source: source)
        self.maximumBuffer = maximumBuffer
    }

    var offset: Int { start + position }
    var remaining: Int { storage.source.count - offset }

    @inline(__always)
    mutating func byte(_ what: StaticString) throws(RDBError) -> UInt8 {
        if position >= end { try refill(1, what) }
        defer { position += 1 }
        return storage.bytes[position]
    }

    @inline(__always)
    mutating func take(_ count: Int, _ what: StaticString) throws(RDBError) -> UnsafeRawBufferPointer {
        if count < 0 || count > end - position { try refill(count, what) }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: storage.bytes[position..<position + count])
    }

    /// The CRC-64 of every byte before `position`.
    mutating func checksumSoFar() -> UInt64 {
        crc.update(UnsafeRawBufferPointer(rebasing: storage.bytes[crcIndex..<position]))
        crcIndex = position
        return crc.value
    }

    /// Makes `count` bytes available at `position`: checksums and drops what is no longer
    /// needed, grows the buffer if the pinned bytes and the request need it (within the
    /// maximum), and reads from the source.
    mutating func refill(_ count: Int, _ what: StaticString) throws(RDBError) {
        guard count >= 0, count <= remaining else { throw truncated(count, what) }
        let keep = min(pin, position)
        let needed = position - keep + count
        guard needed <= maximumBuffer else {
            throw RDBError(.tooLarge, at: offset, "\(what) needs \(needed) bytes in memory at once, more than the maximum of \(maximumBuffer) (RDBReader.Limits.maximumValueBytes)")
        }
        crc.update(UnsafeRawBufferPointer(rebasing: storage.bytes[crcIndex..<keep]))
        let kept = end - keep
        if keep > 0, kept > 0 {
            storage.bytes.baseAddress!.copyMemory(from: storage.bytes.baseAddress! + keep, byteCount: kept)
        }
        start += keep
        position -= keep
        end = kept
        crcIndex = 0
        if pin != Int.max { pin -= keep }
        if needed > storage.bytes.count {
            let grown = Storage(capacity: min(maximumBuffer, max(needed, storage.bytes.count * 2)), source: storage.source)
            grown.bytes.baseAddress!.copyMemory(from: storage.bytes.baseAddress!, byteCount: end)
            storage = grown
        }
        while end - position < count {
            let n = try storage.source.read(into: UnsafeMutableRawBufferPointer(rebasing: storage.bytes[end...]), at: start + end)
            guard n > 0 else { throw truncated(count, what) }
            end += n
        }
    }
}

/// `bytes.withUnsafeBytes` for a body that throws ``RDBError`` (the standard library's
/// rethrows loses the error type).
func withRawBytes<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(RDBError) -> T) throws(RDBError) -> T {
    var result: Result<T, RDBError>?
    bytes.withUnsafeBytes { raw in
        do throws(RDBError) { result = .success(try body(raw)) } catch { result = .failure(error) }
    }
    return try result!.get()
}
