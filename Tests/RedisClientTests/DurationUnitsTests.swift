import Testing

@testable import RedisClient

/// The one place a Duration becomes seconds, milliseconds, microseconds or nanoseconds:
/// fractions kept in the Double forms, dropped toward zero in the whole forms.
@Suite struct DurationUnitsTests {
    @Test func secondsAndMillisecondsKeepTheFraction() {
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.microseconds(250).inMilliseconds == 0.25)
        #expect(Duration.seconds(3).inMilliseconds == 3000)
        #expect(Duration.zero.inSeconds == 0)
        #expect(Duration.seconds(86_400 * 365).inSeconds == 31_536_000)
    }

    @Test func wholeUnitsDropTheFraction() {
        let d = Duration.seconds(2) + .nanoseconds(1_999_999)
        #expect(d.wholeMilliseconds == 2001)
        #expect(d.wholeMicroseconds == 2_001_999)
        #expect(d.wholeNanoseconds == 2_001_999_999)
        #expect(Duration.nanoseconds(999).wholeMicroseconds == 0)
        #expect(Duration.seconds(3600).wholeNanoseconds == 3_600_000_000_000)
    }
}
