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
        case disabled
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
    public private(set) var checksum: Checksum?
    /// The offset just after the trailer, once the end is reached: where an AOF tail begins.
    public private(set) var endOffset: Int?

    let limits: Limits
    var input: RDBStreamInput
    var database = 0
    var failed: RDBError?

    /// Reads and checks the header. Throws ``RDBError`` for a wrong magic or an RDB
    /// version this reader does not know.
    public init(source: any RDBByteSource, limits: Limits = .init()) throws(RDBError) {
        self.limits = limits
        input = RDBStreamInput(source: source, blockSize: limits.blockSize,
                               maximumBuffer: limits.maximumValueBytes + limits.blockSize)
        let header = Array(try input.take(min(9, max(input.remaining, 0)), "the RDB header"))
        (version, valkey) = try Self.parseHeader(header)
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
            return try readEntry()
        } catch {
            failed = error
            throw error
        }
    }

    func readEntry() throws(RDBError) -> RDBEntry? {
        var walker = RDBValueWalker(input: input, limits: limits, version: version, decode: false)
        defer { input = walker.input }
        var expiry: Int64?
        var idle: UInt64?
        var frequency: UInt8?
        while true {
            let at = walker.input.offset
            let op = try walker.input.byte("an opcode or value type")
            switch op {
            case 0xFD: expiry = Int64(signExtend(try walker.input.littleEndian(4, "an expiry in seconds"), bits: 32)) * 1000
            case 0xFC: expiry = Int64(bitPattern: try walker.input.littleEndian(8, "an expiry in ms"))
            case 0xF9: frequency = try walker.input.byte("an LFU frequency")
            case 0xF8: idle = try walker.length("an LRU idle time")
            case 0xFE:
                let db = try walker.length("a database number")
                guard db < 1 << 31 else { throw RDBError(.malformed, at: at + 1, "database number \(db) is out of range") }
                database = Int(db)
                return .selectDB(database)
            case 0xFB:
                return .resizeDB(keys: try walker.length("a database size"), expires: try walker.length("an expires size"))
            case 0xF4:
                return .slotInfo(slot: try walker.length("a slot"), keys: try walker.length("a slot size"),
                                 expires: try walker.length("a slot expires size"))
            case 0xFA:
                var decoding = RDBValueWalker(input: walker.input, limits: limits, version: version, decode: true)
                let name = try decoding.string("an aux field name")!
                let value = try decoding.string("an aux field value")!
                walker.input = decoding.input
                return .aux(name: name, value: value)
            case 0xF5:
                var decoding = RDBValueWalker(input: walker.input, limits: limits, version: version, decode: true)
                let code = try decoding.string("a function library")!
                walker.input = decoding.input
                return .function(code: code)
            case 0xF6:
                throw RDBError(.unsupportedType, at: at, "function data of the Redis 7.0 release candidates (opcode 246): Redis itself no longer reads it")
            case 0xF7:
                let module = RDBModuleValue(moduleID: try walker.length("a module type ID"))
                let whenAt = walker.input.offset
                guard try walker.length("a module aux 'when' opcode") == 2 else {
                    throw RDBError(.malformed, at: whenAt, "module aux data must start with an unsigned 'when' (opcode 2)")
                }
                _ = try walker.length("a module aux 'when'")
                try walker.skipModuleOpcodes()
                return .moduleAux(note: "aux data of module type \(module.typeName) (encoding version \(module.encodingVersion)) skipped")
            case 0xFF:
                try readTrailer(&walker.input, at: at)
                return nil
            default:
                guard let type = RDBValueType(byte: op, valkey: valkey) else {
                    throw RDBError(.malformed, at: at, "unknown opcode or value type \(op) (0x\(String(op, radix: 16)))")
                }
                var decoding = RDBValueWalker(input: walker.input, limits: limits, version: version, decode: true)
                let key = try decoding.string("a key")!
                walker.input = decoding.input
                let valueOffset = walker.input.offset
                walker.input.pin = walker.input.position
                _ = try walker.value(type)
                let start = walker.input.pin
                walker.input.pin = Int.max
                let serialization = Array(UnsafeRawBufferPointer(rebasing: walker.input.storage.bytes[start..<walker.input.position]))
                var note: String?
                if type == .module2, case .module(let m)? = try? RDBKeyEntry.moduleHeader(serialization, at: valueOffset) {
                    note = "module type \(m.typeName) (encoding version \(m.encodingVersion)): value skipped, not decoded"
                }
                return .key(RDBKeyEntry(database: database, key: key, type: type, expiresAtMs: expiry, lruIdle: idle,
                                        lfuFrequency: frequency, serialization: serialization, valueOffset: valueOffset,
                                        rdbVersion: version, valkey: valkey, moduleNote: note))
            }
        }
    }

    /// After the EOF opcode: the CRC-64 of everything before it, little-endian; zero when
    /// written with `rdbchecksum no` (Redis then skips the check too).
    func readTrailer(_ input: inout RDBStreamInput, at eofOffset: Int) throws(RDBError) {
        let computed = input.checksumSoFar()
        let stored = try input.littleEndian(8, "the CRC-64 trailer")
        if stored == 0 {
            checksum = .disabled
        } else if stored == computed {
            checksum = .verified(computed)
        } else {
            throw RDBError(.checksum, at: eofOffset + 1, "the CRC-64 trailer is 0x\(String(stored, radix: 16)), the bytes before it give 0x\(String(computed, radix: 16))")
        }
        endOffset = input.offset
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
