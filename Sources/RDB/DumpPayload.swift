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
        try Frame(for: entry, targetVersion: targetVersion).payload(entry)
    }
}
