import AOF
import NIOCore
import RedisClient
import Testing

@testable import Operations

/// `--ttl-as-of-target` on incr commands: which time arguments move, and how; and the
/// RDB version chosen for a target's payloads from its INFO.
@Suite struct ExpiryShifterTests {
    static func entry(_ words: String...) throws -> AOFEntry {
        var text = "*\(words.count)\r\n"
        for w in words { text += "$\(w.utf8.count)\r\n\(w)\r\n" }
        let reader = AOFFileReader(bytes: ByteBuffer(string: text), name: "test")
        return try #require(try reader.next())
    }

    static func words(_ shifter: ExpiryShifter, _ entry: AOFEntry) -> [String]? {
        shifter.shifted(entry)?.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func absoluteExpiriesMoveAndEverythingElseStays() throws {
        let shifter = ExpiryShifter(targetMs: 1_000_000)
        shifter.startBatch()
        let shift = shifter.shiftMs
        #expect(shift > 0)
        #expect(Self.words(shifter, try Self.entry("SET", "k", "v", "PXAT", "2000000")) == ["SET", "k", "v", "PXAT", String(2_000_000 + shift)])
        #expect(Self.words(shifter, try Self.entry("set", "k", "v", "exat", "2000", "GET")) == ["set", "k", "v", "PXAT", String(2_000_000 + shift), "GET"])
        #expect(Self.words(shifter, try Self.entry("PEXPIREAT", "k", "2000000", "GT")) == ["PEXPIREAT", "k", String(2_000_000 + shift), "GT"])
        #expect(Self.words(shifter, try Self.entry("EXPIREAT", "k", "2000")) == ["PEXPIREAT", "k", String(2_000_000 + shift)])
        #expect(Self.words(shifter, try Self.entry("GETEX", "k", "PXAT", "2000000")) == ["GETEX", "k", "PXAT", String(2_000_000 + shift)])
        #expect(Self.words(shifter, try Self.entry("RESTORE", "k", "2000000", "payload", "REPLACE", "ABSTTL")) == ["RESTORE", "k", String(2_000_000 + shift), "payload", "REPLACE", "ABSTTL"])
        // Relative times, no expiry, and a value that merely looks like an option: unchanged.
        #expect(Self.words(shifter, try Self.entry("RESTORE", "k", "5000", "payload")) == nil)
        #expect(Self.words(shifter, try Self.entry("SET", "k", "v", "EX", "100")) == nil)
        #expect(Self.words(shifter, try Self.entry("SET", "PXAT", "v")) == nil)
        #expect(Self.words(shifter, try Self.entry("PEXPIRE", "k", "100")) == nil)
        #expect(Self.words(shifter, try Self.entry("HSET", "h", "PXAT", "1")) == nil)
    }

    /// The count without `--ttl-as-of-target` recognises the same commands as the shift,
    /// and only expiries in (target, now].
    @Test func passedExpiriesAreThoseBetweenTheTargetAndNow() throws {
        var window = PassedExpiryWindow(targetMs: 1_000_000)
        window.nowMs = 2_000_000
        #expect(window.passed(try Self.entry("SET", "k", "v", "PXAT", "1500000")))
        #expect(window.passed(try Self.entry("set", "k", "v", "exat", "2000")), "at now: already gone")
        #expect(window.passed(try Self.entry("PEXPIREAT", "k", "1000001")))
        #expect(window.passed(try Self.entry("EXPIREAT", "k", "1500")))
        #expect(window.passed(try Self.entry("GETEX", "k", "PXAT", "1500000")))
        #expect(window.passed(try Self.entry("RESTORE", "k", "1500000", "payload", "ABSTTL")))
        #expect(!window.passed(try Self.entry("PEXPIREAT", "k", "1000000")), "expired at the target: not alive then")
        #expect(!window.passed(try Self.entry("PEXPIREAT", "k", "2000001")), "still alive now")
        #expect(!window.passed(try Self.entry("RESTORE", "k", "1500000", "payload")), "a relative TTL")
        #expect(!window.passed(try Self.entry("SET", "k", "v", "PX", "1500000")))
        #expect(!window.passed(try Self.entry("HSET", "h", "PXAT", "1500000")))
        #expect(ExpiryShifter.absoluteExpiryMs(try Self.entry("SET", "k", "v", "EXAT", "7")) == 7000)
    }

    @Test func payloadVersionFollowsTheTargetsVersion() {
        func version(_ text: String) -> Int? { RDBTargetVersion.of(RedisInfo(parsing: text)) }
        #expect(version("redis_version:7.0.15\r\n") == 10)
        #expect(version("redis_version:7.2.4\r\n") == 11)
        #expect(version("redis_version:7.4.1\r\n") == 12)
        #expect(version("redis_version:6.2.14\r\n") == 9)
        #expect(version("redis_version:8.0.0\r\n") == 12)
        #expect(version("redis_version:7.2.4\r\nvalkey_version:8.1.0\r\n") == 11)
        #expect(version("redis_version:7.2.4\r\nvalkey_version:9.0.0\r\n") == 80)
        #expect(version("redis_version:4.0.9\r\n") == nil)
        #expect(version("") == nil)
    }
}
