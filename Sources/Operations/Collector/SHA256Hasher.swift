import Crypto

/// SHA-256 in pieces, lower-case hex at the end (the archive's checksums).
struct SHA256Hasher {
    private var hasher = SHA256()

    mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        hasher.update(data: Array(bytes))
    }

    func finish() -> String { DurableFile.hex(hasher.finalize()) }
}
