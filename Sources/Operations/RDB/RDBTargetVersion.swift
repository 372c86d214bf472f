import RedisClient

/// The newest RDB version a server reads, from its INFO server section: what a DUMP
/// payload sent to it may be stamped with.
enum RDBTargetVersion {
    /// Redis 5 and 6: 9, 7.0: 10, 7.2: 11, 7.4 and later: 12; Valkey 7.2 and 8: 11,
    /// Valkey 9 and later: 80. Nil when INFO names no version this knows (the payload then
    /// keeps the file's own version and the server says whether it reads it).
    static func of(_ server: RedisInfo) -> Int? {
        if let valkey = server.string("valkey_version").flatMap(version) {
            return valkey.major >= 9 ? 80 : 11
        }
        guard let redis = server.string("redis_version").flatMap(version) else { return nil }
        switch (redis.major, redis.minor) {
        case (..<5, _): return nil
        case (5, _), (6, _): return 9
        case (7, 0): return 10
        case (7, 2): return 11
        case (7, _): return redis.minor < 2 ? 10 : 12
        default: return 12
        }
    }

    /// `7.2.4` as (7, 2).
    static func version(_ text: String) -> (major: Int, minor: Int)? {
        let parts = text.split(separator: ".")
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        return (major, minor)
    }
}
