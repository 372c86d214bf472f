import Foundation

/// Points in time as people write them for `replay-until` and `archive log`:
/// `"2026-11-20 15:12:01"` or ISO-8601 (`2026-11-20T15:12:01`, local time unless a zone
/// such as `Z` or `+01:00` is given), `@1795268554` (unix seconds), `-10m` / `-2h`
/// (before now), and `now`.
public enum TimeText {
    /// A parsed time.
    public enum Value: Sendable, Hashable {
        /// Unix seconds.
        case seconds(Double)
        /// `now`: the present moment (for a restore: everything archived).
        case now
    }

    /// Parses `text` relative to `now`; nil when it is none of the accepted forms.
    public static func parse(_ text: String, now: Double = Date().timeIntervalSince1970) -> Value? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "now" { return .now }
        if t.hasPrefix("@") { return Double(t.dropFirst()).flatMap { $0.isFinite ? .seconds($0) : nil } }
        if t.hasPrefix("-"), let d = DurationText.parse(String(t.dropFirst())) {
            let c = d.components
            return .seconds(now - (Double(c.seconds) + Double(c.attoseconds) / 1e18))
        }
        var normalized = t
        if normalized.count > 10, normalized[normalized.index(normalized.startIndex, offsetBy: 10)] == "T" {
            normalized.replaceSubrange(normalized.index(normalized.startIndex, offsetBy: 10)...normalized.index(normalized.startIndex, offsetBy: 10), with: " ")
        }
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone.current
            formatter.dateFormat = format
            if let date = formatter.date(from: normalized) { return .seconds(date.timeIntervalSince1970) }
        }
        return nil
    }

    /// What the forms are, for error messages.
    public static let accepted = "\"2026-11-20 15:12:01\", ISO-8601 (2026-11-20T15:12:01+01:00), @UNIXSECONDS, -10m / -2h, or now"

    private static let formats = [
        "yyyy-MM-dd HH:mm:ssXXXXX", "yyyy-MM-dd HH:mm:ss XXXXX", "yyyy-MM-dd HH:mm:ssXX", "yyyy-MM-dd HH:mm:ss XX",
        "yyyy-MM-dd HH:mm:ss.SSSXXXXX", "yyyy-MM-dd HH:mm:ss.SSS",
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    ]
}
