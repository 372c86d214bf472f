import Foundation

/// Unix seconds as people read them in reports: local time, to the second, with the zone.
public enum TimeFormat {
    /// `2026-11-20 15:12:01 +0100`.
    public static func text(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
