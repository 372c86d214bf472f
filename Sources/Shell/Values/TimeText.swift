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

    /// The latest time accepted: 9999-12-31 23:59:59 UTC, in unix seconds.
    public static let latest: Double = 253_402_300_799

    /// Parses `text` relative to `now`; nil when it is none of the accepted forms or lies
    /// outside 1970...9999 (``check(_:now:)`` says which).
    public static func parse(_ text: String, now: Double = Date().timeIntervalSince1970) -> Value? {
        try? check(text, now: now)
    }

    /// Parses `text` relative to `now`, or throws a message saying why it is not a time.
    public static func check(_ text: String, now: Double = Date().timeIntervalSince1970) throws(TimeTextError) -> Value {
        guard let value = parseUnbounded(text, now: now) else {
            throw TimeTextError(message: "\"\(text.prefix(80))\" is not a time: use \(accepted)")
        }
        if case .seconds(let s) = value, !(0...latest).contains(s) {
            throw TimeTextError(message: "\"\(text.prefix(80))\" is outside the times accepted (1970-01-01 to 9999-12-31, @0 to @\(Int64(latest)))")
        }
        return value
    }

    /// A word `-10m` (a relative time) becomes `now-10m`, which ArgumentParser does not take
    /// for an option; other words are kept. Only words of that exact form change, so a
    /// negative number without a unit (`-5`) still reaches the command as it was.
    public static func protectingRelativeTimes(_ words: [String]) -> [String] {
        words.map { isRelative($0) ? "now" + $0 : $0 }
    }

    /// `-` then a duration with a unit (`-10m`, `-1.5h`, `-500ms`).
    static func isRelative(_ word: String) -> Bool {
        guard word.hasPrefix("-"), word.count > 2, word.dropFirst().first?.isNumber == true,
              word.last?.isLetter == true, DurationText.parse(String(word.dropFirst())) != nil else { return false }
        return true
    }

    private static func parseUnbounded(_ text: String, now: Double) -> Value? {
        var t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "now" { return .now }
        if t.lowercased().hasPrefix("now-") { t = String(t.dropFirst(3)) }
        if t.hasPrefix("@") { return Double(t.dropFirst()).flatMap { $0.isFinite ? .seconds($0) : nil } }
        if t.hasPrefix("-"), let d = DurationText.parse(String(t.dropFirst())) {
            return .seconds(now - d.inSeconds)
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
    public static let accepted = "\"2026-11-20 15:12:01\", ISO-8601 (2026-11-20T15:12:01+01:00), @UNIXSECONDS, -10m / -2h (or now-10m), or now"

    private static let formats = [
        "yyyy-MM-dd HH:mm:ssXXXXX", "yyyy-MM-dd HH:mm:ss XXXXX", "yyyy-MM-dd HH:mm:ssXX", "yyyy-MM-dd HH:mm:ss XX",
        "yyyy-MM-dd HH:mm:ss.SSSXXXXX", "yyyy-MM-dd HH:mm:ss.SSS",
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd",
    ]
}

/// Why a text is not a time, for the command to put in its error.
public struct TimeTextError: Error, Sendable, CustomStringConvertible {
    /// The reason, naming the text.
    public let message: String
    public var description: String { message }
}
