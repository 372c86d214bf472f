import Foundation
import Testing

@testable import Operations

@Suite struct RewriteScheduleTests {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func timeOfDayParses() {
        #expect(RewriteSchedule.TimeOfDay("03:00")?.description == "03:00")
        #expect(RewriteSchedule.TimeOfDay("3:05")?.hour == 3)
        for bad in ["24:00", "03:60", "3", "03:0", "ab:cd", ""] { #expect(RewriteSchedule.TimeOfDay(bad) == nil, "\(bad)") }
    }

    @Test func dailyTimeIsTodayOrTomorrow() {
        let schedule = RewriteSchedule(at: RewriteSchedule.TimeOfDay("03:00"), every: nil, origin: Self.date("2026-01-01T00:00:00Z"))
        #expect(schedule.next(after: Self.date("2026-01-05T01:00:00Z"), calendar: Self.utc) == Self.date("2026-01-05T03:00:00Z"))
        #expect(schedule.next(after: Self.date("2026-01-05T03:00:00Z"), calendar: Self.utc) == Self.date("2026-01-06T03:00:00Z"))
        #expect(schedule.next(after: Self.date("2026-01-05T23:59:00Z"), calendar: Self.utc) == Self.date("2026-01-06T03:00:00Z"))
    }

    @Test func intervalCountsFromTheOriginAndTheSoonerWins() {
        let origin = Self.date("2026-01-01T00:00:00Z")
        let every = RewriteSchedule(at: nil, every: .seconds(6 * 3600), origin: origin)
        #expect(every.next(after: origin, calendar: Self.utc) == Self.date("2026-01-01T06:00:00Z"))
        #expect(every.next(after: Self.date("2026-01-01T13:00:00Z"), calendar: Self.utc) == Self.date("2026-01-01T18:00:00Z"))
        let both = RewriteSchedule(at: RewriteSchedule.TimeOfDay("03:00"), every: .seconds(6 * 3600), origin: origin)
        #expect(both.next(after: origin, calendar: Self.utc) == Self.date("2026-01-01T03:00:00Z"))
        #expect(RewriteSchedule(at: nil, every: nil, origin: origin).next(after: origin) == nil)
    }
}
