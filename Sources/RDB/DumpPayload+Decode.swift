extension DumpPayload {
    /// The value a `DUMP` reply holds: the type byte, the value's serialization, the
    /// 2-byte RDB version and the CRC-64 (cluster.c `createDumpPayload`), checked and
    /// decoded. `key` names the key in errors.
    ///
    /// Throws ``RDBError`` with offsets inside the payload: `.truncated` for fewer than
    /// the 11 bytes every payload has, `.checksum` for a CRC-64 that does not match,
    /// `.unsupportedVersion` for a version this reader does not know, `.malformed` for a
    /// value that does not decode.
    public static func value(of payload: [UInt8], key: [UInt8]) throws(RDBError) -> RDBValue {
        guard payload.count >= 11 else {
            throw RDBError(.truncated, at: payload.count, "the DUMP payload of \(RDBText.quoted(key)) has \(payload.count) bytes; every payload has at least 11")
        }
        let trailer = payload.count - 10
        let version = Int(payload[trailer]) | Int(payload[trailer + 1]) << 8
        var stored: UInt64 = 0
        for k in 0..<8 { stored |= UInt64(payload[trailer + 2 + k]) << (8 * UInt64(k)) }
        // A CRC of zero means the server was told not to compute one (rdbchecksum no).
        if stored != 0, CRC64.checksum(Array(payload[..<(trailer + 2)])) != stored {
            throw RDBError(.checksum, at: trailer + 2, "the DUMP payload of \(RDBText.quoted(key)) fails its CRC-64")
        }
        let valkey = version >= RDBReader.valkeyVersion
        guard version >= RDBReader.oldestVersion, valkey ? version == RDBReader.valkeyVersion : version <= RDBReader.newestRedisVersion else {
            throw RDBError(.unsupportedVersion, at: trailer, "the DUMP payload of \(RDBText.quoted(key)) is RDB version \(version), which this reader does not know")
        }
        guard let type = RDBValueType(byte: payload[0], valkey: valkey) else {
            throw RDBError(.malformed, at: 0, "the DUMP payload of \(RDBText.quoted(key)) starts with \(payload[0]), which is no value type")
        }
        let entry = RDBKeyEntry(database: 0, key: key, type: type, expiresAtMs: nil, lruIdle: nil, lfuFrequency: nil,
                                serialization: Array(payload[1..<trailer]), valueOffset: 1, rdbVersion: version,
                                valkey: valkey, moduleNote: nil)
        return try entry.value()
    }
}
