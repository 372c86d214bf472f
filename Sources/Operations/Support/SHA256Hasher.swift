import Crypto

/// SHA-256 in pieces, lower-case hex at the end: the one digest routine behind every
/// archive checksum (chunks, bases, restores checking them).
public struct SHA256Hasher: Sendable {
    private var hasher = SHA256()

    /// Starts an empty digest.
    public init() {}

    /// Adds raw bytes (no copy).
    public mutating func update(_ raw: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: raw)
    }

    /// Adds bytes.
    public mutating func update<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if bytes.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(bytes))
        }
    }

    /// The digest, lower-case hex.
    public func finish() -> String { Self.hex(hasher.finalize()) }

    /// The SHA-256 of `bytes`, lower-case hex.
    public static func hex<Bytes: Collection>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var h = SHA256Hasher()
        h.update(bytes)
        return h.finish()
    }

    /// Lower-case hex of a digest.
    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
