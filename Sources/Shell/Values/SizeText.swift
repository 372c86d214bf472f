/// Byte sizes as people write them: `512`, `16KB`, `4MB`, `1GB` (also `16K`, `4M`, `1G`,
/// `16KiB`...). Units are binary: 1KB = 1024 bytes, like redis.conf's `kb`/`mb`/`gb`
/// (1kb = 1024) and the sizes INFO reports, so a size copied from Redis means the same here.
public enum SizeText {
    /// Parses `text` into bytes, or returns nil. Case does not matter; fractions are allowed
    /// (`1.5MB`).
    public static func parse(_ text: String) -> Int? {
        let lower = text.lowercased()
        let k = 1024.0, m = k * k, g = m * k, t = g * k
        let units: [(String, Double)] = [
            ("kib", k), ("mib", m), ("gib", g), ("tib", t),
            ("kb", k), ("mb", m), ("gb", g), ("tb", t),
            ("k", k), ("m", m), ("g", g), ("t", t), ("b", 1),
        ]
        var number = Substring(lower)
        var scale = 1.0
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            number = lower.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, let value = Double(number), value >= 0, value.isFinite else { return nil }
        let bytes = (value * scale).rounded()
        guard bytes < 9e18 else { return nil }
        return Int(bytes)
    }

    /// A rate such as `50MB/s` (also `50MB`, meaning per second): bytes per second.
    public static func parseRate(_ text: String) -> Int? {
        var t = Substring(text)
        if t.lowercased().hasSuffix("/s") { t = t.dropLast(2) }
        return parse(String(t))
    }

    /// `4MB`, `16KB`, `1.5GB`, `700B`: the shortest faithful text for a size.
    public static func format(_ bytes: Int) -> String {
        let v = Double(bytes)
        func trim(_ x: Double) -> String {
            let r = (x * 100).rounded() / 100
            return r == r.rounded() ? String(Int64(r)) : String(r)
        }
        if bytes < 1024 { return "\(bytes)B" }
        if bytes < 1 << 20 { return trim(v / 1024) + "KB" }
        if bytes < 1 << 30 { return trim(v / Double(1 << 20)) + "MB" }
        return trim(v / Double(1 << 30)) + "GB"
    }
}
