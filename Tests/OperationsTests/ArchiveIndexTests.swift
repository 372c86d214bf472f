import Foundation
import Testing

@testable import Operations

/// The archive's index: records round-trip, a torn last line is ignored and cut before the
/// next append, one writer at a time, and the resume views.
@Suite struct ArchiveIndexTests {
    static func folder() -> String { NSTemporaryDirectory() + "redkeep-archive-\(UUID().uuidString)" }

    static let sample: [ArchiveRecord] = [
        .stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: 100, recordedAt: 101)),
        .generation(.init(gen: 1, sourceFile: "appendonly.aof.1.base.rdb", sourceSeq: 1, format: .rdb,
                          path: ArchiveLayout.basePath(gen: 1, format: .rdb), size: 88, sha256: "ab", firstStream: 1,
                          asOf: 100, recordedAt: 101)),
        .chunk(.init(stream: 1, offset: 0, length: 10, sha256: "cd", path: ArchiveLayout.chunkPath(stream: 1, offset: 0),
                     commands: 1, firstTimestamp: 1_700_000_000, lastTimestamp: nil, copiedAt: 102)),
        .chunk(.init(stream: 1, offset: 10, length: 5, sha256: "ef", path: ArchiveLayout.chunkPath(stream: 1, offset: 10),
                     commands: 1, firstTimestamp: nil, lastTimestamp: nil, copiedAt: 103)),
        .sample(.init(stream: 1, size: 15, at: 103.5)),
        .streamEnd(.init(stream: 1, size: 15, at: 104)),
        .gap(.init(stream: 2, offset: 0, from: 104, to: 110, reason: "the incr file vanished")),
        .mark(.init(name: "before-deploy", key: ArchiveRecord.Mark.key(for: "before-deploy"), at: 105, stream: 2)),
    ]

    @Test func recordsRoundTripInOrder() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let writer = try LocalArchiveStore(root: root).openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "127.0.0.1:6379"))
        for record in Self.sample { try writer.append(record) }
        let index = try ArchiveIndex.read(root)
        #expect(index.records == Self.sample)
        #expect(!index.tornTail)
        #expect(index.descriptor.source == "127.0.0.1:6379")
        #expect(index.copiedBytes(of: 1) == 15 && index.endSize(of: 1) == 15 && index.copiedBytes(of: 2) == 0)
        #expect(index.chunks(of: 1).map(\.offset) == [0, 10])
        let text = try String(contentsOfFile: root + "/index.jsonl", encoding: .utf8)
        #expect(text.contains("\"type\":\"stream-end\"") && text.contains("\"first_stream\":1"))
        #expect(ArchiveLayout.chunkPath(stream: 3, offset: 4096) == "stream-000003/000000004096.chunk")
    }

    @Test func aTornLastLineIsIgnoredThenCut() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            let writer = try LocalArchiveStore(root: root).openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
            try writer.append(Self.sample[0])
        }
        // A crash in the middle of appending the second record.
        let handle = try #require(FileHandle(forWritingAtPath: root + "/index.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("{\"type\":\"chunk\",\"str".utf8))
        try handle.close()
        let torn = try ArchiveIndex.read(root)
        #expect(torn.tornTail && torn.records == [Self.sample[0]])

        let writer = try LocalArchiveStore(root: root).openIndexWriter(creating: nil)
        try writer.append(Self.sample[2])
        let mended = try ArchiveIndex.read(root)
        #expect(!mended.tornTail && mended.records == [Self.sample[0], Self.sample[2]])
    }

    @Test func oneWriterAtATimeAndClearErrors() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try LocalArchiveStore(root: root).openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
        #expect(throws: ArchiveError.self) { _ = try LocalArchiveStore(root: root).openIndexWriter(creating: nil) }
        _ = first
        #expect(throws: ArchiveError.self) { _ = try ArchiveIndex.read(Self.folder()) }
        // A bad line that is not the last is an error naming the line.
        try Data("{\"type\":\"nonsense\"}\n{\"type\":\"sample\",\"stream\":1,\"size\":1,\"at\":1}\n".utf8)
            .write(to: URL(fileURLWithPath: root + "/index.jsonl"))
        do {
            _ = try ArchiveIndex.read(root)
            Issue.record("a bad line must be refused")
        } catch {
            #expect(error.message.contains("index.jsonl:1:"))
        }
    }

    @Test func aFolderHoldingSomethingElseIsNeverWrittenInto() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/notes.txt", contents: Data("mine".utf8))
        do {
            _ = try LocalArchiveStore(root: root).openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
            Issue.record("a non-empty folder without an archive must be refused")
        } catch {
            #expect(error.kind == .notAnArchive && error.message.contains("notes.txt"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["notes.txt"])
    }

    @Test func anArchiveThatLostItsIndexIsNotOverwritten() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalArchiveStore(root: root)
        do {
            let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
            let info = try store.write(ArchiveLayout.chunkPath(stream: 1, offset: 0), bytes: Array("*1\r\n$4\r\nPING\r\n".utf8))
            try writer.append(.chunk(.init(stream: 1, offset: 0, length: info.size, sha256: info.sha256, path: ArchiveLayout.chunkPath(stream: 1, offset: 0),
                                           commands: 1, firstTimestamp: nil, lastTimestamp: nil, copiedAt: 1)))
            writer.close()
        }
        try FileManager.default.removeItem(atPath: root + "/index.jsonl")
        do {
            _ = try store.openIndexWriter(creating: ArchiveDescriptor(created: 2, source: "s"))
            Issue.record("an archive whose index is gone must be refused")
        } catch {
            #expect(error.kind == .damaged && error.message.contains("index"))
        }
        // verify reports the object no record names.
        let result = try ArchiveVerifyResult.run(try ArchiveIndex.read(store))
        #expect(!result.isSound && result.problems.contains { $0.contains("000000000000.chunk") && $0.contains("no index record") })
    }

    @Test func archiveFilesAreOwnerOnly() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalArchiveStore(root: root)
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
        try writer.append(Self.sample[0])
        try store.write(ArchiveLayout.chunkPath(stream: 1, offset: 0), bytes: [1, 2, 3])
        func mode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        #expect(try mode(root) == 0o700)
        #expect(try mode(root + "/stream-000001") == 0o700)
        for file in ["archive.json", "index.jsonl", "stream-000001/000000000000.chunk"] { #expect(try mode(root + "/" + file) == 0o600, "\(file)") }
    }

    @Test func verifyTellsATornTailThatLosesNothingFromOneThatDoes() throws {
        let root = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalArchiveStore(root: root)
        do {
            let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "s"))
            try writer.append(Self.sample[0])
            writer.close()
        }
        let handle = try #require(FileHandle(forWritingAtPath: root + "/index.jsonl"))
        handle.seekToEndOfFile()
        handle.write(Data("{\"type\":\"chunk\",\"str".utf8))
        try handle.close()
        var result = try ArchiveVerifyResult.run(try ArchiveIndex.read(store))
        #expect(result.isSound && result.warnings.count == 1)
        // The chunk whose record was torn off is there: its bytes are in no restore.
        try store.write(ArchiveLayout.chunkPath(stream: 1, offset: 0), bytes: Array("*1\r\n$4\r\nPING\r\n".utf8))
        result = try ArchiveVerifyResult.run(try ArchiveIndex.read(store))
        #expect(!result.isSound && result.problems.count == 2)
    }

    @Test func durableWriteLeavesNothingOnFailure() throws {
        let root = Self.folder()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hash = try DurableFile.write(Array("hello".utf8), to: root + "/a.txt")
        #expect(hash == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try DurableFile.sha256(ofFile: root + "/a.txt") == hash)
        #expect(throws: DurableFile.WriteError.self) { try DurableFile.write(Array("x".utf8), to: root + "/missing/b.txt") }
        struct Boom: Error {}
        #expect(throws: DurableFile.WriteError.self) {
            try DurableFile.write(to: root + "/c.txt") { sink throws(DurableFile.WriteError) in
                try sink.append(Array("partial".utf8))
                throw DurableFile.WriteError(path: root + "/c.txt", reason: "simulated")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["a.txt"])
    }
}
