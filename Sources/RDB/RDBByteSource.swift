/// Random-access bytes an ``RDBReader`` reads from: an array in memory, or a file read
/// with pread by a layer that does I/O (Operations' `RDBFileSource`). The reader asks for
/// blocks in order and never holds more than its buffer.
public protocol RDBByteSource {
    /// The total number of bytes (bounds every length the reader meets).
    var count: Int { get }
    /// Copies up to `buffer.count` bytes starting at `offset` into `buffer`; returns how
    /// many (0 only at the end). Throws ``RDBError`` (kind `.io`) when the read fails.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int
}

/// Bytes in memory.
public struct RDBMemorySource: RDBByteSource, Sendable {
    /// The bytes.
    public let bytes: [UInt8]

    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The number of bytes.
    public var count: Int { bytes.count }

    /// Copies from the array.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int {
        guard offset >= 0, offset < bytes.count else { return 0 }
        let n = min(buffer.count, bytes.count - offset)
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: n)
        }
        return n
    }
}
