import Foundation

/// When the collector asks for BGREWRITEAOF: daily at a local time, every so often, or
/// both (whichever comes first).
public struct RewriteSchedule: Sendable, Hashable {
    /// A local time of day.
    public struct TimeOfDay: Sendable, Hashable, CustomStringConvertible {
        /// 0 to 23.
        public var hour: Int
        /// 0 to 59.
        public var minute: Int

        /// Parses `03:00` or `3:05`; nil for anything else.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
                  (0...23).contains(h), (0...59).contains(m) else { return nil }
            hour = h
            minute = m
        }

        /// `03:00`.
        public var description: String { (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)" }
    }

    /// Daily, at this local time.
    public var at: TimeOfDay?
    /// Every so often, from `origin`.
    public var every: Duration?
    /// Where `every` counts from.
    public var origin: Date

    /// Creates a schedule.
    public init(at: TimeOfDay?, every: Duration?, origin: Date) {
        self.at = at
        self.every = every
        self.origin = origin
    }

    /// The first scheduled moment strictly after `date`, or nil when nothing is scheduled.
    public func next(after date: Date, calendar: Calendar = .current) -> Date? {
        var candidates: [Date] = []
        if let at {
            var parts = calendar.dateComponents([.year, .month, .day], from: date)
            parts.hour = at.hour
            parts.minute = at.minute
            parts.second = 0
            if let today = calendar.date(from: parts) {
                candidates.append(today > date ? today : (calendar.date(byAdding: .day, value: 1, to: today) ?? today.addingTimeInterval(86400)))
            }
        }
        if let every {
            let step = every.inSeconds
            if step > 0 {
                let done = max(0, (date.timeIntervalSince(origin) / step).rounded(.down))
                var next = origin.addingTimeInterval((done + 1) * step)
                if next <= date { next = next.addingTimeInterval(step) }
                candidates.append(next)
            }
        }
        return candidates.min()
    }
}
