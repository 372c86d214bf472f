import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// `replay-until` and `archive` through the redkeep executable, on an archive of a real
/// server's writes.
@Suite(.serialized) struct RestoreCommandTests {
    static func script(_ text: String) throws -> RedkeepBinaryTests.Run {
        try RedkeepBinaryTests.redkeep([try RedkeepBinaryTests.temporaryFile("restore.rk", text)])
    }

    @Test func replayUntilAndArchiveCommands() async throws {
        try await withLab { lab in
            let s = try await RestoreScenario.run(in: lab, name: "source", timestamps: true, steps: 5)
            let target = try await lab.start("target")
            let second = s.seconds[3]

            // --into a connection, by unix seconds.
            var run = try Self.script("""
                connect t 127.0.0.1:\(target.port)
                replay-until @\(second) --archive \(s.archive) --into t
                """)
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("commands") && run.out.contains("rolled_back"))
            let c = try await RedisConnection.connect(target.connectionConfiguration)
            #expect(try await restoreContents(c) == s.expected[second]!)

            // Again without --flush: refused, the target is not empty.
            run = try Self.script("""
                connect t 127.0.0.1:\(target.port)
                replay-until @\(second) --archive \(s.archive) --into t
                """)
            #expect(run.status == 3 && run.err.contains("--flush"))

            // Just before the FLUSHALL, with a local time as people write it.
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            let local = formatter.string(from: Date(timeIntervalSince1970: Double(s.seconds[0])))
            run = try Self.script("""
                connect t 127.0.0.1:\(target.port)
                replay-until "\(local)" --before-first "FLUSHALL|FLUSHDB" --archive \(s.archive) --into t --flush
                """)
            #expect(run.status == 0, "\(run.err)")
            #expect(try await restoreContents(c) == s.beforeFlush)

            // --write-aof, then a server started on it natively.
            let out = try restoreTemporaryFolder("written", in: lab) + "/server"
            run = try Self.script("replay-until @\(second) --archive \(s.archive) --write-aof \(out)/appendonlydir")
            #expect(run.status == 0, "\(run.err)")
            let loaded = try await lab.start("loaded", LocalServerOptions(appendOnly: true, directory: out))
            let l = try await RedisConnection.connect(loaded.connectionConfiguration)
            #expect(try await restoreContents(l) == s.expected[second]!)
            await l.close()

            // --start: the report says where it runs.
            run = try Self.script("replay-until @\(second) --archive \(s.archive) --start restored")
            #expect(run.status == 0, "\(run.err)")
            #expect(run.out.contains("started on the written AOF"))

            // Outside the coverage: the range is named. A dead target: the error names it.
            run = try Self.script("replay-until @\(second - 7200) --archive \(s.archive) --dry-run")
            #expect(run.status == 3 && run.err.contains("the archive covers"))
            run = try Self.script("""
                start victim
                crash victim
                replay-until @\(second) --archive \(s.archive) --into victim
                """)
            #expect(run.status != 0)
            #expect(run.err.contains("victim") || run.err.contains("127.0.0.1"))

            // The archive's own commands.
            run = try Self.script("archive timeline \(s.archive)")
            #expect(run.status == 0 && run.out.contains("gen 1") && run.out.contains("gen 2"), "\(run.out) \(run.err)")
            run = try Self.script("archive log \(s.archive) --command flushall")
            #expect(run.status == 0 && run.out.contains("FLUSHALL") && !run.out.contains("SET "))
            run = try Self.script("archive log \(s.archive) --key 'tx:*'")
            #expect(run.out.contains("SET tx:0 done") && run.out.contains("SET tx:3 done"))
            run = try Self.script("archive verify \(s.archive)")
            #expect(run.status == 0, "\(run.err)")

            // archive log prints each command's place as GEN:STREAM:OFFSET, exactly what
            // --offset takes: restoring to the FLUSHALL's place gives the data just before it.
            run = try Self.script("archive log \(s.archive) --command flushall")
            let line = try #require(run.out.split(separator: "\n").first { $0.contains("FLUSHALL") })
            let fields = line.components(separatedBy: "  ").filter { !$0.isEmpty }
            let place = try #require(fields.count == 3 ? fields[1] : nil, "\(line)")
            #expect(place.split(separator: ":").count == 3)
            run = try Self.script("""
                connect t 127.0.0.1:\(target.port)
                replay-until --offset \(place) --archive \(s.archive) --into t --flush
                """)
            #expect(run.status == 0, "\(run.err)")
            #expect(try await restoreContents(c) == s.beforeFlush)

            // A relative time, as documented: -1h is before the archive, and said so
            // (not refused as an unknown option).
            run = try Self.script("replay-until -1h --archive \(s.archive) --dry-run")
            #expect(run.status == 3 && run.err.contains("before the archive's first base"), "\(run.err)")
            run = try Self.script("archive log \(s.archive) --from -1h --command flushall")
            #expect(run.status == 0 && run.out.contains("FLUSHALL"), "\(run.err)")
            // --to -1h: an hour ago, before anything archived, so nothing is listed.
            run = try Self.script("archive log \(s.archive) --to -1h --command flushall")
            #expect(run.status == 0 && !run.out.contains("FLUSHALL"), "\(run.out) \(run.err)")

            // A damaged chunk: verify fails with exit code 3 naming it, replay stops at it.
            let index = try ArchiveIndex.read(s.archive)
            let chunk = index.chunks.last!
            let path = index.store.describe(chunk.path)
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seek(toOffset: UInt64(chunk.length - 3))
            handle.write(Data("X".utf8))
            try handle.close()
            run = try Self.script("archive verify \(s.archive)")
            #expect(run.status == 3 && run.err.contains(path))
            run = try Self.script("replay-until now --archive \(s.archive) --dry-run")
            #expect(run.status == 3 && run.err.contains(path) && run.err.contains("sha256"))
            await c.close()
        }
    }
}
