/// Reads an RDB entry by entry from a byte source, without the whole file in memory: the
/// buffer holds a block, or the largest single value when one is larger. Checks the
/// header (RDB 9 to 12 from Redis 5 to 7.4, and Valkey 9's `VALKEY080`), every length
/// against what is left, and the CRC-64 trailer.
///
/// ```swift
/// let reader = try RDBReader(source: RDBMemorySource(bytes))
/// while let entry = try reader.next() { ... }
/// reader.checksum   // after the end
/// ```
public final class RDBReader {
    /// Bounds on what one value may make the reader hold.
    public struct Limits: Sendable {
        /// The largest value serialization (or string inside one) held in memory at once.
        public var maximumValueBytes: Int
        /// How much the reader asks its source for at a time.
        public var blockSize: Int

        /// 4 GiB per value, 1 MiB blocks.
        public init(maximumValueBytes: Int = 1 << 32, blockSize: Int = 1 << 20) {
            self.maximumValueBytes = max(maximumValueBytes, 64)
            self.blockSize = min(max(blockSize, 64), 1 << 30)
        }
    }

    /// How the trailer ended.
    public enum Checksum: Sendable, Hashable {
        /// The CRC-64 matched.
        case verified(UInt64)
        /// Eight zero bytes: written with `rdbchecksum no`.
        case notWritten
    }

    /// The newest Redis RDB version read (Redis 7.4 writes 12).
    public static let newestRedisVersion = 12
    /// The oldest RDB version read (Redis 5 writes 9).
    public static let oldestVersion = 9
    /// Valkey 9's RDB version, written after the `VALKEY` magic.
    public static let valkeyVersion = 80

    /// The RDB version from the header.
    public let version: Int
    /// True for a `VALKEY` magic.
    public let valkey: Bool
    /// The trailer, once the end is reached.
    public var checksum: Checksum? { parser.checksum }
    /// The offset just after the trailer, once the end is reached: where an AOF tail begins.
    public var endOffset: Int? { parser.endOffset }

    let limits: Limits
    /// Reads entries in place (a struct mutated through one access per entry: no copies
    /// of the buffer's reference, which cost more than the parsing of a small key).
    var parser: RDBEntryParser
    var failed: RDBError?
    /// The walker over the input (for tests).
    var walker: RDBValueWalker<RDBStreamInput> { parser.walker }

    /// Reads and checks the header. Throws ``RDBError`` for a wrong magic or an RDB
    /// version this reader does not know.
    public init(source: any RDBByteSource, limits: Limits = .init()) throws(RDBError) {
        self.limits = limits
        var input = RDBStreamInput(source: source, blockSize: limits.blockSize,
                                   maximumBuffer: limits.maximumValueBytes + limits.blockSize)
        let header = Array(try input.take(min(9, max(input.remaining, 0)), "the RDB header"))
        (version, valkey) = try Self.parseHeader(header)
        parser = RDBEntryParser(walker: RDBValueWalker(input: input, limits: limits, version: version, decode: false),
                                valkey: valkey)
    }

    /// The version in `REDIS0012` or `VALKEY080`, checked.
    static func parseHeader(_ header: [UInt8]) throws(RDBError) -> (version: Int, valkey: Bool) {
        let redis = header.starts(with: Array("REDIS".utf8))
        let valkey = header.starts(with: Array("VALKEY".utf8))
        guard redis || valkey else {
            throw RDBError(.malformed, at: 0, "not an RDB: expected the magic REDIS or VALKEY, found \(RDBText.quoted(Array(header.prefix(6))))")
        }
        guard header.count == 9 else { throw RDBError(.truncated, at: header.count, "the RDB header is cut short: \(header.count) of 9 bytes") }
        var version = 0
        for k in (valkey ? 6 : 5)..<9 {
            guard header[k] >= 0x30, header[k] <= 0x39 else {
                throw RDBError(.malformed, at: k, "expected a version digit after the magic, found byte 0x\(String(header[k], radix: 16))")
            }
            version = version * 10 + Int(header[k] - 0x30)
        }
        if valkey {
            guard version == valkeyVersion else {
                throw RDBError(.unsupportedVersion, at: 6, version > valkeyVersion
                               ? "Valkey RDB version \(version) is newer than this reader knows (\(valkeyVersion))"
                               : "Valkey RDB version \(version) is not one Valkey writes (\(valkeyVersion))")
            }
        } else {
            guard version <= newestRedisVersion else {
                throw RDBError(.unsupportedVersion, at: 5, "RDB version \(version) is newer than this reader knows (\(newestRedisVersion), Redis 7.4)")
            }
            guard version >= oldestVersion else {
                throw RDBError(.unsupportedVersion, at: 5, "RDB version \(version) is older than Redis 5 (\(oldestVersion)): not read")
            }
        }
        return (version, valkey)
    }

    /// The next entry, or nil after the EOF opcode and a good trailer. After an error,
    /// every call throws the same error.
    public func next() throws(RDBError) -> RDBEntry? {
        if let failed { throw failed }
        guard checksum == nil else { return nil }
        do {
            return try parser.readEntry()
        } catch {
            failed = error
            throw error
        }
    }
}

extension RDBKeyEntry {
    /// A module value's type, read from the start of its serialization.
    static func moduleHeader(_ serialization: [UInt8], at offset: Int) throws(RDBError) -> RDBValue {
        try withRawBytes(serialization) { (raw: UnsafeRawBufferPointer) throws(RDBError) -> RDBValue in
            var walker = RDBValueWalker(input: RDBBytesInput(raw, startingAt: offset), limits: .init(), version: 0, decode: true)
            return .module(RDBModuleValue(moduleID: try walker.length("a module type ID")))
        }
    }
}
