import RDB
import Testing
@testable import Shell

/// `rdb check` prints the header as the file spells it, so an operator can match it with `head -c 9`.
@Suite struct RDBCheckMagicTests {
    @Test func redisHasFourDigitsAndValkeyThree() {
        var report = RDBCheckReport()
        report.version = 11
        #expect(RdbCommand.magic(report) == "REDIS0011")
        report.version = 9
        #expect(RdbCommand.magic(report) == "REDIS0009")
        report.valkey = true
        report.version = 80
        #expect(RdbCommand.magic(report) == "VALKEY080")
    }
}
