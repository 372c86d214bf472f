import Foundation
import Testing

@testable import Operations

/// Following a single-file AOF (Redis <= 6, which Debian's Redis 7 cannot produce): the file
/// is written here as Redis 6 would (commands appended; a rewrite renames a new file over
/// it), and the collector's file engine must archive both files exactly.
@Suite struct CollectorSingleFileTests {
    static func command(_ words: String...) -> [UInt8] {
        var out = "*\(words.count)\r\n"
        for w in words { out += "$\(w.utf8.count)\r\n\(w)\r\n" }
        return Array(out.utf8)
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try handle.close()
    }

    @Test func replacedFileStartsANewGenerationAndTheOldOneIsFinished() throws {
        let root = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString)"
        let aof = root + "/data", archive = root + "/archive"
        try FileManager.default.createDirectory(atPath: aof, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = aof + "/appendonly.aof"
        var first = Self.command("SELECT", "0")
        for i in 0..<40 { first += Self.command("SET", "k\(i)", String(repeating: "x", count: i)) }
        FileManager.default.createFile(atPath: path, contents: Data(first))

        let engine = try CollectorEngine(store: LocalArchiveStore(root: archive), aofDirectory: aof, appendFilename: "appendonly.aof", chunkSize: 256, rate: nil,
                                         descriptor: ArchiveDescriptor(created: 0, source: "test", aofDirectory: aof), now: 1)
        #expect(engine.mode == .singleFile(name: "appendonly.aof"))
        func drain(_ now: Double) throws {
            try engine.observe(now: now)
            while try engine.copyNextChunk(now: now).bytes > 0 {}
            try engine.finishStreams(now: now)
        }
        try drain(2)
        // More commands, the last one cut in the middle (a write in progress).
        let more = Self.command("INCR", "n") + Self.command("DEL", "k1")
        let partial = Self.command("SET", "late", "value")
        try Self.append(more + partial.prefix(7), to: path)
        try drain(3)
        try Self.append(Array(partial.dropFirst(7)), to: path)
        // A rewrite: a new file renamed over the old one (the old inode lives on here).
        let rewritten = Self.command("SET", "k0", "") + Self.command("SET", "n", "1")
        FileManager.default.createFile(atPath: aof + "/temp-rewrite.aof", contents: Data(rewritten))
        let oldFull = first + more + partial
        #expect(rename(aof + "/temp-rewrite.aof", path) == 0)
        try drain(4)
        try drain(5)
        try drain(6)

        let index = try ArchiveIndex.read(archive)
        #expect(index.streams.count == 2)
        #expect(index.generations.map(\.firstStream) == [1, 2])
        #expect(index.generations.allSatisfy { $0.size == 0 && $0.format == .aof })
        #expect(index.endSize(of: 1) == oldFull.count)
        #expect(index.gaps.isEmpty)
        for (stream, expected) in [(1, oldFull), (2, rewritten)] {
            let chunks = index.chunks(of: stream)
            let joined = try chunks.flatMap { [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive + "/" + $0.path))) }
            #expect(joined == expected, "stream \(stream)")
            #expect(chunks.allSatisfy { $0.length <= 256 || $0.commands == 1 })
        }
        #expect(index.chunks(of: 1).count > 5, "small chunks")
    }

    @Test func rdbPreambleIsRefusedClearly() throws {
        let root = NSTemporaryDirectory() + "redkeep-single-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        FileManager.default.createFile(atPath: root + "/data/appendonly.aof", contents: Data("REDIS0009\u{FA}junk".utf8))
        let engine = try CollectorEngine(store: LocalArchiveStore(root: root + "/archive"), aofDirectory: root + "/data", appendFilename: "appendonly.aof",
                                         chunkSize: 256, rate: nil, descriptor: ArchiveDescriptor(created: 0, source: "test"), now: 1)
        #expect(throws: CollectorError.self) { try engine.observe(now: 2) }
        do { try engine.observe(now: 2) } catch {
            Issue.record("a second look must not fail again: \(error)")
        }
        let index = try ArchiveIndex.read(root + "/archive")
        #expect(index.gaps.first?.reason.contains("aof-use-rdb-preamble no") == true)
    }
}
