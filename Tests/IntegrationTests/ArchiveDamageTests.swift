import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// An archive a collector made from a real server's writes, then damaged the two ways
/// that used to pass unnoticed: `archive verify` said `sound:yes` with `index.jsonl`
/// deleted or its last line torn, and a collector started on the index-less folder wrote
/// a new base and chunks over the old ones.
@Suite(.serialized) struct ArchiveDamageTests {
    /// A collected archive of `SET`s and `INCR`s, with a base and at least one chunk.
    static func collectedArchive(_ lab: Lab) async throws -> (archive: String, source: LocalServer) {
        let server = try await lab.start("source", LocalServerOptions(aofTimestamps: true, config: [("auto-aof-rewrite-percentage", "0")]))
        let archive = try restoreTemporaryFolder("archive", in: lab)
        let collector = try await Collector.open(name: "c", source: server.connectionConfiguration,
                                                 options: CollectorOptions(archive: archive, pause: .zero, interval: .milliseconds(100)))
        let running = Task.detached { await collector.run() }
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        _ = try await c.pipeline((0..<200).map { ["SET", .string("k\($0)"), "v"] })
        _ = try await c.pipeline((0..<200).map { _ in ["INCR", "n"] })
        await c.close()
        // Stopping copies what the AOF holds by then (appendfsync always is not needed:
        // the collector reads the file Redis has written, flushed or not).
        try await Task.sleep(for: .milliseconds(300))
        collector.requestStop()
        await running.value
        return (archive, server)
    }

    /// Every file under `root` with its bytes.
    static func contents(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: root)! {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
            }
        }
        return out
    }

    /// The archive holds the whole data set, which Redis protects nothing of here: its
    /// folders are 0700 and its files 0600 whatever the umask.
    @Test func aCollectedArchiveIsReadableByItsOwnerOnly() async throws {
        try await withLab { lab in
            let (archive, _) = try await Self.collectedArchive(lab)
            func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
            #expect(try mode(archive) == 0o700)
            var files = 0
            for case let path as String in FileManager.default.enumerator(atPath: archive)! {
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: archive + "/" + path, isDirectory: &isDirectory)
                #expect(try mode(archive + "/" + path) == (isDirectory.boolValue ? 0o700 : 0o600), "\(path)")
                if !isDirectory.boolValue { files += 1 }
            }
            #expect(files >= 4, "archive.json, index.jsonl, a base and a chunk")
        }
    }

    @Test func anArchiveWithoutItsIndexIsUnsoundAndNeverWrittenInto() async throws {
        try await withLab { lab in
            let (archive, server) = try await Self.collectedArchive(lab)
            let index = try ArchiveIndex.read(archive)
            let chunks = index.chunks.map(\.path)
            let base = try #require(index.generations.first?.path)
            try #require(!chunks.isEmpty, "the collector copied no chunk")
            #expect(try ArchiveVerifyResult.run(index).isSound)

            try FileManager.default.removeItem(atPath: archive + "/index.jsonl")
            let before = try Self.contents(archive)
            // verify names every object no record names, and fails.
            let result = try ArchiveVerifyResult.run(try ArchiveIndex.read(archive))
            #expect(!result.isSound)
            for path in [base] + chunks {
                #expect(result.problems.contains { $0.contains(path) && $0.contains("no index record names it") }, "\(path): \(result.problems)")
            }
            let verify = try RedkeepBinaryTests.redkeep(["-c", "archive verify \(archive)"])
            #expect(verify.status == 3 && verify.out.contains("sound:no"), "\(verify.out)\(verify.err)")

            // A collector started on it refuses, says what is there, and writes nothing.
            do {
                _ = try await Collector.open(name: "again", source: server.connectionConfiguration, options: CollectorOptions(archive: archive))
                Issue.record("a collector opened an archive that lost its index")
            } catch {
                #expect("\(error)".contains("has lost its index") && "\(error)".contains(base), "\(error)")
            }
            let run = try RedkeepBinaryTests.redkeep(["-c", "connect s 127.0.0.1:\(server.port); chunk run --archive \(archive)"])
            #expect(run.status != 0 && run.err.contains("refusing to write into it"), "\(run.err)")
            #expect(try Self.contents(archive) == before, "the archive's files changed")
        }
    }

    /// A sound archive of another server, and a folder holding something else: refused,
    /// saying what is there, with nothing written.
    @Test func aFolderThatIsNotThisSourcesArchiveIsNeverWrittenInto() async throws {
        try await withLab { lab in
            let (archive, _) = try await Self.collectedArchive(lab)
            let other = try await lab.start("other", LocalServerOptions(appendOnly: true))
            let before = try Self.contents(archive)
            do {
                _ = try await Collector.open(name: "other", source: other.connectionConfiguration, options: CollectorOptions(archive: archive))
                Issue.record("a collector of another server opened the archive")
            } catch {
                #expect("\(error)".contains("use one archive per server"), "\(error)")
            }
            #expect(try Self.contents(archive) == before, "the archive's files changed")

            let folder = try restoreTemporaryFolder("notes", in: lab)
            try Data("mine".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
            do {
                _ = try await Collector.open(name: "other", source: other.connectionConfiguration, options: CollectorOptions(archive: folder))
                Issue.record("a collector wrote into a folder that holds something else")
            } catch {
                #expect("\(error)".contains("is not empty and holds no archive") && "\(error)".contains("notes.txt"), "\(error)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["notes.txt"])
        }
    }

    @Test func aTornLastIndexLineIsReportedWithTheChunkItLoses() async throws {
        try await withLab { lab in
            let (archive, _) = try await Self.collectedArchive(lab)
            let index = try ArchiveIndex.read(archive)
            // Cut the index short in the middle of the last chunk's record, as a crash
            // while appending it would (a sample record may have followed it: gone too).
            let text = try String(contentsOfFile: archive + "/index.jsonl", encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            let lastChunk = try #require(index.chunks.last)
            let at = try #require(lines.lastIndex { $0.contains(lastChunk.path) })
            let torn = lines[..<at].joined(separator: "\n") + "\n" + lines[at].prefix(lines[at].count / 2)
            try Data(torn.utf8).write(to: URL(fileURLWithPath: archive + "/index.jsonl"))

            let result = try ArchiveVerifyResult.run(try ArchiveIndex.read(archive))
            #expect(!result.isSound)
            #expect(result.problems.contains { $0.contains(lastChunk.path) && $0.contains("no index record names it") }, "\(result.problems)")
            #expect(result.problems.contains { $0.contains("the last line of the index is cut short") }, "\(result.problems)")
            let verify = try RedkeepBinaryTests.redkeep(["-c", "archive verify \(archive)"])
            #expect(verify.status == 3 && verify.out.contains("sound:no"), "\(verify.out)\(verify.err)")

            // Without the chunk the torn record named, nothing is lost: sound, with a warning.
            try FileManager.default.removeItem(atPath: index.store.describe(lastChunk.path))
            let after = try ArchiveVerifyResult.run(try ArchiveIndex.read(archive))
            #expect(after.isSound && after.warnings.contains { $0.contains("nothing is lost") }, "\(after.problems) \(after.warnings)")
        }
    }
}
