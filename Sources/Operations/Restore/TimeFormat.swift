import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unix seconds as people read them in reports: local time, to the second, with the zone.
public enum TimeFormat {
    /// `2026-11-20 15:12:01 +0100`.
    ///
    /// Made with the C library's `localtime_r` and `strftime` (the same local zone: `TZ`,
    /// else /etc/localtime), not `DateFormatter`: the first `DateFormatter` of a process
    /// loads ICU's locale and zone data, 10 to 30 ms that every `replay-until` waited for
    /// before its first write (planning names the archived time range).
    public static func text(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e15 else { return String(seconds) }
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return String(seconds) }
        var out = [CChar](repeating: 0, count: 64)
        let written = strftime(&out, out.count, "%Y-%m-%d %H:%M:%S %z", &parts)
        guard written > 0 else { return String(seconds) }
        return String(decoding: out[..<written].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
