/// The payload of `RESTORE key ttl payload`, made from a key of an RDB: the type byte,
/// the value's serialization as the file has it, a 2-byte RDB version and the CRC-64 of
/// all that, both little-endian (cluster.c `createDumpPayload`). The same bytes `DUMP`
/// returns on the server that wrote the RDB, when it writes that RDB version.
public enum DumpPayload {
    /// The payload for `entry`, for a server that reads RDB versions up to
    /// `targetVersion` (Redis 7.0: 10, 7.2: 11, 7.4: 12, Valkey 9: 80; nil: the file's
    /// own version). The version stamped is the file's, lowered to the target's (RESTORE
    /// refuses a payload newer than itself, and a value's bytes do not change with the
    /// version once its type exists).
    ///
    /// Throws ``RDBError`` (kind `.incompatible`, naming the key) when the target cannot
    /// read the value's type: a listpack on a server older than RDB 10, Redis 7.4's hash
    /// field TTLs on Valkey, Valkey's hash with field expiry on Redis, or a module value
    /// (its module must be loaded on the target, which a payload cannot promise).
    public static func make(for entry: RDBKeyEntry, targetVersion: Int? = nil) throws(RDBError) -> [UInt8] {
        let target = targetVersion ?? entry.rdbVersion
        let stamped = min(entry.rdbVersion, target)
        let key = entry.keyDescription
        if entry.type == .module2 || entry.type == .modulePreGA {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(key) holds a module value (\(entry.moduleNote ?? "module type unknown")); RESTORE needs that module on the target, so it is left to the operator")
        }
        if entry.type.isRedisOnly, target >= RDBReader.valkeyVersion {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(key) is a Redis 7.4 hash with field TTLs (type \(entry.type.byte)), which Valkey does not read")
        }
        // Valkey 9's hash with field expiry goes as it is (type 22 after a version of 80
        // means this hash, as the type byte of a VALKEY file does); Redis reads 22 as its
        // 7.4 release candidates' type, and Valkey 8 (RDB 11) not at all.
        if entry.type == .valkeyHash2, target < RDBReader.valkeyVersion {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(key) is a Valkey 9 hash with field expiry (type 22 of a VALKEY file), which only Valkey 9 and later read; the target reads up to RDB \(target)")
        }
        guard stamped >= entry.type.minimumVersion else {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(key) is stored as \(entry.type), which needs RDB \(entry.type.minimumVersion) or newer; "
                           + (entry.rdbVersion < target ? "the file says it is RDB \(entry.rdbVersion), and a payload cannot claim more than its file"
                                                        : "the target reads up to RDB \(target)"))
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(entry.serialization.count + 11)
        payload.append(entry.type.byte)
        payload += entry.serialization
        payload.append(UInt8(truncatingIfNeeded: stamped))
        payload.append(UInt8(truncatingIfNeeded: stamped >> 8))
        let crc = CRC64.checksum(payload)
        for k in 0..<8 { payload.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(k)))) }
        return payload
    }
}
