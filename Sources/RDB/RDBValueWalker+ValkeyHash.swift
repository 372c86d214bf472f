/// Valkey 9's hash with field expiry, `RDB_TYPE_HASH_2` (22 in a `VALKEY` file), read as
/// valkey-io/valkey writes it. Sources, as stored for this work:
/// - src/rdb.h at 01756301ec98fdf8c31936552d2d123ff0f362f5, `enum RdbType`:
///   `RDB_TYPE_HASH_2 = 22, /* Hash with field-level expiration, RDB 80 (9.0) */`.
/// - src/rdb.c at 008734eee6e4b15303e283b488458d68497fa19d: `rdbSaveObjectType` writes
///   22 for a hash-table-encoded hash when `hashTypeHasVolatileFields(o)` (a listpack hash
///   never has field expiries and stays type 16); `rdbSaveObject`, `OBJ_HASH` /
///   `OBJ_ENCODING_HASHTABLE`, writes `rdbSaveLen(hashtableSize(ht))`, then per field
///   `rdbSaveRawString(field)`, `rdbSaveRawString(value)` and, as `add_expiry` is true for
///   the whole hash, `rdbSaveMillisecondTime(entryGetExpiry(next))` for every field: 8
///   bytes, little-endian, signed; `EXPIRY_NONE` (-1) for a field without one.
///   `rdbLoadObject`, branch `rdbtype == RDB_TYPE_HASH || rdbtype == RDB_TYPE_HASH_2`,
///   reads the same and refuses `itemexpiry < EXPIRY_NONE`.
///
/// So: [field count][field][value][expiry ms, int64 LE, -1: none] x count. An expiry of 0
/// is a time (long past), not "none" as in Redis 7.4's types 22 to 25.
extension RDBValueWalker {
    /// Walks a type 22 hash of a `VALKEY` file; returns it when decoding, else nil.
    mutating func valkeyHash2() throws(RDBError) -> RDBValue? {
        // Each field takes at least 10 bytes: two 1-byte strings and the 8-byte expiry.
        let n = try count("a field count", minimumBytes: 10)
        var fields: [RDBHashField] = []
        if decode { fields.reserveCapacity(n) }
        for _ in 0..<n {
            let field = try string("a hash field")
            let value = try string("a hash value")
            let expiryAt = input.offset
            let expiry = Int64(bitPattern: try milliseconds("a field expiry"))
            guard expiry >= -1 else {
                throw RDBError(.malformed, at: expiryAt, "field expiry \(expiry) in a Valkey hash, expected -1 (none) or a Unix time in ms")
            }
            guard let field, let value else { continue }
            fields.append(RDBHashField(field: field, value: value, expiresAtMs: expiry == -1 ? nil : UInt64(expiry)))
        }
        return decode ? .hash(fields) : nil
    }
}
