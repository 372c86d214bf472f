/// The reader's state and its entry loop (rdb.c `rdbLoadRioWithLoadingCtx`): opcodes,
/// and each key's value walked once to find its exact bytes.
struct RDBEntryParser {
    /// The walker over the input, kept between entries (walking a value and decoding a key
    /// or aux string only switch its `decode`).
    var walker: RDBValueWalker<RDBStreamInput>
    let valkey: Bool
    var database = 0
    var checksum: RDBReader.Checksum?
    var endOffset: Int?

    mutating func readEntry() throws(RDBError) -> RDBEntry? {
        var expiry: Int64?
        var expiryAt: Int?
        var idle: UInt64?
        var frequency: UInt8?
        while true {
            let at = walker.input.offset
            let op = try walker.input.byte("an opcode or value type")
            switch op {
            case 0xFD: expiry = Int64(signExtend(try walker.input.littleEndian(4, "an expiry in seconds"), bits: 32)) * 1000; expiryAt = at
            case 0xFC: expiry = Int64(bitPattern: try walker.input.littleEndian(8, "an expiry in ms")); expiryAt = at
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
            case 0xF3 where valkey:
                return try readSlotImport()
            case 0xFA:
                walker.decode = true
                defer { walker.decode = false }
                let name = try walker.string("an aux field name")!
                return .aux(name: name, value: try walker.string("an aux field value")!)
            case 0xF5:
                walker.decode = true
                defer { walker.decode = false }
                return .function(code: try walker.string("a function library")!)
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
                try readTrailer(at: at)
                return nil
            default:
                guard let type = RDBValueType(byte: op, valkey: valkey) else {
                    throw RDBError(.malformed, at: at, "unknown opcode or value type \(op) (0x\(String(op, radix: 16)))")
                }
                walker.decode = true
                let key = try walker.string("a key")!
                walker.decode = false
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
                                        rdbVersion: walker.version, valkey: valkey, moduleNote: note, expiryOffset: expiryAt))
            }
        }
    }

    /// After the EOF opcode: the CRC-64 of everything before it, little-endian; zero when
    /// written with `rdbchecksum no` (Redis then skips the check too).
    mutating func readTrailer(at eofOffset: Int) throws(RDBError) {
        let computed = walker.input.checksumSoFar()
        let stored = try walker.input.littleEndian(8, "the CRC-64 trailer")
        if stored == 0 {
            checksum = .notWritten
        } else if stored == computed {
            checksum = .verified(computed)
        } else {
            throw RDBError(.checksum, at: eofOffset + 1, "the CRC-64 trailer is 0x\(String(stored, radix: 16)), the bytes before it give 0x\(String(computed, radix: 16))")
        }
        endOffset = walker.input.offset
    }
}
