import Foundation
import Testing

@testable import AOF
import RDB

/// The checker on hand-made AOF folders and files: each kind of damage is found at its
/// byte offset, with the valid length a repair would cut to.
@Suite struct AOFCheckTests {
    static func command(_ words: String...) -> [UInt8] {
        var out = Array("*\(words.count)\r\n".utf8)
        for w in words { out += Array("$\(w.utf8.count)\r\n\(w)\r\n".utf8) }
        return out
    }

    /// A minimal RDB: header, the EOF opcode and the CRC-64 of both.
    static func rdb(version: String = "0010", body: [UInt8] = [0xFA, 0x02, 0x61, 0x62, 0x01, 0x31]) -> [UInt8] {
        var bytes = Array("REDIS\(version)".utf8) + body + [0xFF]
        let crc = CRC64.checksum(bytes)
        for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(k)))) }
        return bytes
    }

    static func folder(_ files: [String: [UInt8]], manifest: String) throws -> String {
        let folder = NSTemporaryDirectory() + "redkeep-aofcheck-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        try manifest.write(toFile: folder + "/appendonly.aof.manifest", atomically: true, encoding: .utf8)
        return folder
    }

    static let standardManifest = """
        file appendonly.aof.1.base.rdb seq 1 type b
        file appendonly.aof.1.incr.aof seq 1 type i
        file appendonly.aof.2.incr.aof seq 2 type i

        """

    @Test func crc64MatchesRedis() {
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6d914c4b8d9ca)
    }

    @Test func cleanFolderChecksAndCounts() throws {
        let first = Array("#TS:1700000000\r\n".utf8) + Self.command("SET", "a", "1") + Self.command("MULTI") + Self.command("INCR", "n") + Self.command("EXEC")
        let folder = try Self.folder([
            "appendonly.aof.1.base.rdb": Self.rdb(),
            "appendonly.aof.1.incr.aof": first,
            "appendonly.aof.2.incr.aof": [],
            "temp-rewriteaof-bg-42.aof": [],
        ], manifest: "# made by a test\n" + Self.standardManifest)
        let report = try AOFCheck.check(path: folder)
        #expect(report.isValid, "\(String(describing: report.problem))")
        #expect(report.files.map(\.name) == ["appendonly.aof.1.base.rdb", "appendonly.aof.1.incr.aof", "appendonly.aof.2.incr.aof"])
        #expect(report.files[0].format == .rdb && report.files[0].rdbLength == Self.rdb().count)
        #expect(report.files[1].commands == 4 && report.files[1].transactions == 1 && report.files[1].timestamps == 1)
        #expect(report.files[1].validLength == first.count)
        #expect(report.files[1].firstTimestamp == 1_700_000_000)
        #expect(report.unlistedFiles == ["temp-rewriteaof-bg-42.aof"])
    }

    @Test func truncatedLastFileIsFoundAndFixable() throws {
        let good = Self.command("SET", "a", "1") + Self.command("SET", "b", "2")
        let cut = Array(Self.command("SET", "c", "3").prefix(12))
        let folder = try Self.folder([
            "appendonly.aof.1.base.rdb": Self.rdb(),
            "appendonly.aof.1.incr.aof": Self.command("SET", "x", "0"),
            "appendonly.aof.2.incr.aof": good + cut,
        ], manifest: Self.standardManifest)
        let report = try AOFCheck.check(path: folder + "/appendonly.aof.manifest")
        let problem = try #require(report.problem)
        #expect(problem.kind == .truncated)
        #expect(problem.offset == good.count)
        #expect(report.problemFile?.validLength == good.count)
        #expect(report.isFixable)
    }

    @Test func corruptedByteIsReportedAtItsOffset() throws {
        let before = Self.command("SET", "a", "1")
        var bad = Self.command("SET", "b", "2")
        bad[4] = UInt8(ascii: "x")  // "$3" becomes "x3"
        let path = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString).aof"
        try Data(before + bad + Self.command("SET", "c", "3")).write(to: URL(fileURLWithPath: path))
        let report = try AOFCheck.check(path: path)
        let problem = try #require(report.problem)
        #expect(problem.kind == .malformed)
        #expect(problem.offset == before.count + 4)
        #expect(problem.description.contains("expected '$'"))
        #expect(report.files[0].validLength == before.count)
        #expect(report.isFixable)
    }

    @Test func openTransactionAtTheEndIsCutBeforeItsMulti() throws {
        let before = Self.command("SET", "a", "1")
        let path = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString).aof"
        try Data(before + Self.command("MULTI") + Self.command("INCR", "n")).write(to: URL(fileURLWithPath: path))
        let report = try AOFCheck.check(path: path)
        #expect(report.problem?.kind == .truncated)
        #expect(report.problem?.offset == before.count)
        #expect(report.problem?.reason.contains("MULTI with 1 commands and no EXEC") == true)
        #expect(report.files[0].validLength == before.count)
    }

    @Test func nestedMultiAndExecWithoutMultiAreRefused() throws {
        let path = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString).aof"
        let head = Self.command("SET", "a", "1")
        try Data(head + Self.command("MULTI") + Self.command("MULTI") + Self.command("EXEC")).write(to: URL(fileURLWithPath: path))
        let nested = try AOFCheck.check(path: path)
        #expect(nested.problem?.kind == .transaction)
        #expect(nested.files[0].validLength == head.count)

        try Data(head + Self.command("EXEC")).write(to: URL(fileURLWithPath: path))
        let stray = try AOFCheck.check(path: path)
        #expect(stray.problem?.kind == .transaction && stray.problem?.offset == head.count)
    }

    @Test func damagedRDBBaseIsNotFixable() throws {
        var base = Self.rdb()
        base[base.count - 3] ^= 0x40  // the checksum no longer matches
        let folder = try Self.folder([
            "appendonly.aof.1.base.rdb": base,
            "appendonly.aof.1.incr.aof": Self.command("SET", "a", "1"),
            "appendonly.aof.2.incr.aof": [],
        ], manifest: Self.standardManifest)
        let report = try AOFCheck.check(path: folder)
        #expect(report.problem?.kind == .truncated)
        #expect(report.problem?.reason.contains("CRC-64") == true)
        #expect(!report.isFixable)

        var magic = Self.rdb()
        magic[0] = UInt8(ascii: "X")
        try Data(magic).write(to: URL(fileURLWithPath: folder + "/appendonly.aof.1.base.rdb"))
        // Not REDIS: the file is read as commands, and 'X' is not a command.
        let bad = try AOFCheck.check(path: folder)
        #expect(bad.problem?.kind == .malformed && bad.problem?.offset == 0)
    }

    @Test func rdbVersionMustBeDigits() throws {
        let path = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString).rdb"
        try Data(Self.rdb(version: "00x1")).write(to: URL(fileURLWithPath: path))
        let report = try AOFCheck.check(path: path)
        #expect(report.problem?.kind == .malformed && report.problem?.offset == 7)
    }

    @Test func preambleFileIsRDBThenCommands() throws {
        let path = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString).aof"
        // 0xFF bytes inside the RDB body must not be taken for its end.
        let rdb = Self.rdb(body: [0xFA, 0x01, 0xFF, 0x01, 0xFF])
        try Data(rdb + Self.command("SET", "a", "1")).write(to: URL(fileURLWithPath: path))
        let report = try AOFCheck.check(path: path)
        #expect(report.isValid)
        #expect(report.files[0].format == .rdbPreamble && report.files[0].rdbLength == rdb.count && report.files[0].commands == 1)
    }

    @Test func missingListedFileAndProblemInEarlierFile() throws {
        let missing = try Self.folder([
            "appendonly.aof.1.base.rdb": Self.rdb(),
            "appendonly.aof.1.incr.aof": [],
        ], manifest: Self.standardManifest)
        let report = try AOFCheck.check(path: missing)
        #expect(report.problem?.kind == .manifest)
        #expect(report.problem?.reason.contains("appendonly.aof.2.incr.aof") == true)
        #expect(!report.isFixable)

        let earlier = try Self.folder([
            "appendonly.aof.1.base.rdb": Self.rdb(),
            "appendonly.aof.1.incr.aof": Array(Self.command("SET", "a", "1").dropLast(3)),
            "appendonly.aof.2.incr.aof": Self.command("SET", "b", "2"),
        ], manifest: Self.standardManifest)
        let early = try AOFCheck.check(path: earlier)
        #expect(early.problem?.kind == .truncated)
        #expect(!early.isFixable)
        #expect(early.unfixableReason?.contains("not the last file") == true)
    }

    @Test func manifestRulesAndQuotedNames() throws {
        let quoted = try Self.folder([
            "my aof.1.incr.aof": Self.command("SET", "a", "1"),
        ], manifest: "file \"my aof.1.incr.aof\" seq 1 type i\n")
        #expect(try AOFCheck.check(path: quoted).isValid)

        let twoBases = try Self.folder(["a.rdb": Self.rdb(), "b.rdb": Self.rdb()],
                                       manifest: "file a.rdb seq 1 type b\nfile b.rdb seq 2 type b\n")
        let report = try AOFCheck.check(path: twoBases)
        #expect(report.problem?.kind == .manifest && report.problem?.offset == 2)

        let empty = NSTemporaryDirectory() + "redkeep-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: AOFError.self) { try AOFCheck.check(path: empty) }
    }
}
