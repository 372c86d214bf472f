extension DumpPayload {
    /// What a payload puts around a key's serialization (the type byte before it; the
    /// version and the CRC-64 after it), checked and computed without making the payload,
    /// so a caller can write it straight where it goes (``write(_:into:)``): a restore
    /// makes one per key, and an array per payload, copied again into the batch, was
    /// work for nothing.
    public struct Frame: Sendable {
        /// The type byte.
        public let typeByte: UInt8
        /// The RDB version stamped.
        public let version: Int
        /// The CRC-64 of the type byte, the serialization and the version.
        public let crc: UInt64
        /// The payload's length in bytes.
        public let count: Int

        /// The frame of `entry`'s payload for `targetVersion` (see ``DumpPayload/make(for:targetVersion:)``,
        /// whose checks it makes and whose errors it throws).
        public init(for entry: RDBKeyEntry, targetVersion: Int? = nil) throws(RDBError) {
            let target = targetVersion ?? entry.rdbVersion
            let stamped = min(entry.rdbVersion, target)
            try DumpPayload.check(entry, target: target, stamped: stamped)
            typeByte = entry.type.byte
            version = stamped
            var crc = CRC64()
            crc.update(typeByte)
            entry.serialization.withUnsafeBytes { crc.update($0) }
            crc.update(UInt8(truncatingIfNeeded: stamped))
            crc.update(UInt8(truncatingIfNeeded: stamped >> 8))
            self.crc = crc.value
            count = entry.serialization.count + 11
        }

        /// `entry`'s payload as an array.
        public func payload(_ entry: RDBKeyEntry) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                write(entry, into: UnsafeMutableRawBufferPointer(out))
                initialized = count
            }
        }

        /// Writes `entry`'s payload into `out`, which holds exactly ``count`` bytes.
        public func write(_ entry: RDBKeyEntry, into out: UnsafeMutableRawBufferPointer) {
            precondition(out.count == count, "a payload of \(count) bytes written into \(out.count)")
            let n = entry.serialization.count
            out[0] = typeByte
            entry.serialization.withUnsafeBytes { out.baseAddress!.advanced(by: 1).copyMemory(from: $0.baseAddress!, byteCount: n) }
            out[n + 1] = UInt8(truncatingIfNeeded: version)
            out[n + 2] = UInt8(truncatingIfNeeded: version >> 8)
            for k in 0..<8 { out[n + 3 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt64(k))) }
        }
    }

    /// Refuses what `target` cannot read. The key's description is made only for the
    /// message: quoting every key cost more than making its payload.
    static func check(_ entry: RDBKeyEntry, target: Int, stamped: Int) throws(RDBError) {
        if entry.type == .module2 || entry.type == .modulePreGA {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(entry.keyDescription) holds a module value (\(entry.moduleNote ?? "module type unknown")); RESTORE needs that module on the target, so it is left to the operator")
        }
        if entry.type.isRedisOnly, target >= RDBReader.valkeyVersion {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(entry.keyDescription) is a Redis 7.4 hash with field TTLs (type \(entry.type.byte)), which Valkey does not read")
        }
        // Valkey 9's hash with field expiry goes as it is (type 22 after a version of 80
        // means this hash, as the type byte of a VALKEY file does); Redis reads 22 as its
        // 7.4 release candidates' type, and Valkey 8 (RDB 11) not at all.
        if entry.type == .valkeyHash2, target < RDBReader.valkeyVersion {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(entry.keyDescription) is a Valkey 9 hash with field expiry (type 22 of a VALKEY file), which only Valkey 9 and later read; the target reads up to RDB \(target)")
        }
        guard stamped >= entry.type.minimumVersion else {
            throw RDBError(.incompatible, at: entry.valueOffset,
                           "key \(entry.keyDescription) is stored as \(entry.type), which needs RDB \(entry.type.minimumVersion) or newer; "
                           + (entry.rdbVersion < target ? "the file says it is RDB \(entry.rdbVersion), and a payload cannot claim more than its file"
                                                        : "the target reads up to RDB \(target)"))
        }
    }
}
