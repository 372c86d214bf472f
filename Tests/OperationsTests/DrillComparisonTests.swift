import Testing

@testable import Operations

/// The drill's comparison: every reason a key differs, expiries within the tolerance,
/// keys expired since the mark counted apart, differences in key order.
@Suite struct DrillComparisonTests {
    static func key(_ name: String, db: Int = 0) -> DrillKey { DrillKey(database: db, key: Array(name.utf8)) }
    static func print(_ type: String = "string", _ digest: String = "d", expires: Int64? = nil) -> KeyFingerprint {
        KeyFingerprint(type: type, digest: digest, expiresAtMs: expires)
    }

    @Test func eachReasonIsReportedInKeyOrder() {
        let now: Int64 = 1_000_000
        let live: [DrillKey: KeyFingerprint] = [
            Self.key("same"): Self.print(),
            Self.key("ttl-close"): Self.print(expires: now + 60_000),
            Self.key("value"): Self.print("hash", "a"),
            Self.key("type"): Self.print("list"),
            Self.key("ttl-far"): Self.print(expires: now + 60_000),
            Self.key("ttl-gone"): Self.print(expires: now + 60_000),
            Self.key("missing", db: 1): Self.print(),
            Self.key("expired"): Self.print(expires: now - 5),
        ]
        let restored: [DrillKey: KeyFingerprint] = [
            Self.key("same"): Self.print(),
            Self.key("ttl-close"): Self.print(expires: now + 61_000),
            Self.key("value"): Self.print("hash", "b"),
            Self.key("type"): Self.print("set"),
            Self.key("ttl-far"): Self.print(expires: now + 70_000),
            Self.key("ttl-gone"): Self.print(),
            Self.key("extra"): Self.print(),
        ]
        let c = DrillComparison(live: live, restored: restored, now: now, toleranceMs: 2000)
        #expect(c.expiredSinceMark == 1)
        #expect(c.compared == 8)
        #expect(c.differences.map { "\($0.key.database):\(String(decoding: $0.key.key, as: UTF8.self)) \($0.reason)" } == [
            "0:extra extraOnRestore", "0:ttl-far differentExpiry", "0:ttl-gone differentExpiry", "0:type differentType",
            "0:value differentValue", "1:missing missingOnRestore",
        ])
        #expect(DrillComparison(live: live, restored: live, now: now, toleranceMs: 0).differences.isEmpty)
    }

    @Test func keysPrintReadably() {
        #expect(DrillKey(database: 2, key: [0x61, 0x00, 0x22]).description == "db2:\"a\\x00\\x22\"")
    }
}
