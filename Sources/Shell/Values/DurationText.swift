/// Durations as people write them: `250ms`, `1s`, `1.5s`, `10m`, `24h`, `7d`, `500us`;
/// a bare number is seconds.
public enum DurationText {
    /// Parses `text`, or returns nil.
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            // "ms" also ends in "s"; the longest matching suffix wins because it is tried first.
            let candidate = text.dropLast(suffix.count)
            if Double(candidate) != nil {
                number = candidate
                scale = factor
                break
            }
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        let nanoseconds = value * scale * 1e9
        guard nanoseconds < 9e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// `1.5s`, `250ms`, `2m`, `3h`: the shortest faithful text for a duration.
    public static func format(_ duration: Duration) -> String {
        let ns = Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
        func trim(_ v: Double) -> String {
            let rounded = (v * 100).rounded() / 100
            return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
        }
        if ns < 1e6 { return trim(ns / 1e3) + "us" }
        if ns < 1e9 { return trim(ns / 1e6) + "ms" }
        if ns < 60e9 { return trim(ns / 1e9) + "s" }
        if ns < 3600e9 { return trim(ns / 60e9) + "m" }
        return trim(ns / 3600e9) + "h"
    }
}
