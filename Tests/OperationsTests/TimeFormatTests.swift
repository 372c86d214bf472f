import Foundation
import Testing

@testable import Operations

/// Report times, made with the C library (no ICU loaded), read as the DateFormatter
/// that made them before wrote them.
@Suite struct TimeFormatTests {
    @Test func reportTimesReadAsDateFormatterWroteThem() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
        for seconds in [0, 1_796_291_738.65, 1_700_000_000, 951_782_400, 2_000_000_000.999, -86_400.5] {
            #expect(TimeFormat.text(seconds) == formatter.string(from: Date(timeIntervalSince1970: seconds)), "\(seconds)")
        }
    }
}
