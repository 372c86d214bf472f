/// One item of an RDB, in file order.
public enum RDBEntry: Sendable {
    /// An aux field (`redis-ver`, `ctime`, `repl-id`...): name and value, as stored.
    case aux(name: [UInt8], value: [UInt8])
    /// The following keys belong to this database.
    case selectDB(Int)
    /// The size hint of the current database: keys, and keys with an expiry.
    case resizeDB(keys: UInt64, expires: UInt64)
    /// The key-count hint of one cluster slot (Redis 7.4 cluster mode).
    case slotInfo(slot: UInt64, keys: UInt64, expires: UInt64)
    /// A slot import that was under way when a Valkey 9 cluster node saved (opcode 243):
    /// the migration job's name and the slot ranges it was importing.
    case slotImport(job: [UInt8], slots: [ClosedRange<UInt64>])
    /// A function library (Redis 7 `FUNCTION`): its code.
    case function(code: [UInt8])
    /// Module data not tied to a key: walked and skipped; `note` says which module.
    case moduleAux(note: String)
    /// A key and its value.
    case key(RDBKeyEntry)
}

/// A key of an RDB, with its database, expiry, eviction data and value bytes.
public struct RDBKeyEntry: Sendable {
    /// The database number (the last SELECTDB before it; 0 if none).
    public var database: Int
    /// The key.
    public var key: [UInt8]
    /// The value type byte, read.
    public var type: RDBValueType
    /// The absolute expiry in Unix milliseconds (seconds-expiries are multiplied), or nil.
    public var expiresAtMs: Int64?
    /// The LRU idle time in seconds, when the file has one (maxmemory-policy *lru).
    public var lruIdle: UInt64?
    /// The LFU frequency counter, when the file has one (maxmemory-policy *lfu).
    public var lfuFrequency: UInt8?
    /// The value's serialization exactly as in the file, after the key (what DUMP
    /// carries after the type byte).
    public var serialization: [UInt8]
    /// The byte offset of the value's serialization in the input.
    public var valueOffset: Int
    /// The RDB version of the file.
    public var rdbVersion: Int
    /// True when the file has the `VALKEY` magic.
    public var valkey: Bool
    /// For a module value: which module wrote it (the value is skipped, not decoded).
    public var moduleNote: String?
    /// The byte offset in the input of the key's expiry opcode (0xFC, then 8 bytes of ms;
    /// or 0xFD, then 4 bytes of seconds), when it has one: where a copy of the file can
    /// move the expiry (the temporary-server path of `--ttl-as-of-target`).
    public var expiryOffset: Int? = nil

    /// Decodes the value from its serialization. Throws ``RDBError`` with the byte offset
    /// in the input where its bytes are damaged.
    public func value(limits: RDBReader.Limits = .init()) throws(RDBError) -> RDBValue {
        try withRawBytes(serialization) { (raw: UnsafeRawBufferPointer) throws(RDBError) -> RDBValue in
            var walker = RDBValueWalker(input: RDBBytesInput(raw, startingAt: valueOffset), limits: limits,
                                        version: rdbVersion, decode: true)
            let value = try walker.value(type)!
            guard walker.input.remaining == 0 else {
                throw RDBError(.malformed, at: walker.input.offset,
                               "\(walker.input.remaining) bytes after the end of the \(type) value of \(keyDescription)")
            }
            return value
        }
    }

    /// Type, encoding, element count and bytes, for listings. Counts from lengths and
    /// packed headers (``elementCount(limits:)``), without decoding the elements.
    public func summary(limits: RDBReader.Limits = .init()) throws(RDBError) -> RDBValueSummary {
        RDBValueSummary(typeName: type.typeName, encoding: type.encodingName, count: try elementCount(limits: limits),
                        serializedBytes: serialization.count)
    }

    /// The key for messages: printable text, quoted, shortened.
    public var keyDescription: String { RDBText.quoted(key) }
}

/// Printable renderings of binary names for messages.
enum RDBText {
    /// `"abc"`, with non-printable bytes as \xNN and at most 64 bytes shown.
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for b in bytes.prefix(64) {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        if bytes.count > 64 { out += "...(\(bytes.count) bytes)" }
        return out + "\""
    }
}
