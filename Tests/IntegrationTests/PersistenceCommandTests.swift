import Foundation
import Operations
import Testing

/// `save`, `rewrite`, `aof` through the redkeep executable: reports reachable as
/// variables, `redis SAVE` still reaching Redis, and `aof check` failing a script on a bad
/// AOF while `--fix` writes the repaired copy.
@Suite struct PersistenceCommandTests {
    @Test func commandsReportThroughTheLanguage() throws {
        let target = try temporaryFolder("copies")
        let script = try RedkeepBinaryTests.temporaryFile("p.rk", """
            start m --aof
            SET a 1
            let s = save --copy-to \(target)
            echo kind ${s.kind} verified ${s.verified} changes ${s.changes_saved}
            let plain = redis SAVE
            echo plain $plain
            let r = rewrite --timeout 30s
            echo rewritten ${r.size_after}
            let st = aof status
            echo appendonly ${st.appendonly} enabled ${st.aof_enabled}
            """)
        let run = try RedkeepBinaryTests.redkeep([script])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("kind BGSAVE verified true changes 1"), "\(run.out)")
        #expect(run.out.contains("plain OK"))
        #expect(run.out.contains("appendonly yes enabled 1"))
        #expect(folderContents(target).filter { $0.hasPrefix("m-") }.count == 2)
    }

    @Test func checkFailsOnABadAOFAndFixWritesACopy() throws {
        let path = try RedkeepBinaryTests.temporaryFile("bad.aof", "*1\r\n$4\r\nPING\r\n*2\r\n$3")
        let bad = try RedkeepBinaryTests.redkeep(["-c", "aof check \(path)"])
        #expect(bad.status == 3)
        #expect(bad.err.contains("\(path) at byte 14: the file ends inside a command"), "\(bad.err)")
        let fixed = try RedkeepBinaryTests.redkeep(["--json", "-c", "aof check \(path) --fix"])
        #expect(fixed.status == 0, "\(fixed.err)")
        #expect(try String(contentsOfFile: path + ".fixed", encoding: .utf8) == "*1\r\n$4\r\nPING\r\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("$3"), "the source was changed")
        let off = try RedkeepBinaryTests.redkeep(["-c", "start m; rewrite"])
        #expect(off.status == 3 && off.err.contains("AOF is off (appendonly no)"), "\(off.err)")
    }
}
