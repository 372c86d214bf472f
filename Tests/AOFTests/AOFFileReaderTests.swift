import Foundation
import NIOCore
import Testing

@testable import AOF

/// Reading AOF files from disk: small blocks, byte ranges, a command larger than a block,
/// truncated files, and MULTI/EXEC tracking.
@Suite struct AOFFileReaderTests {
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "redkeep-aof-\(UUID().uuidString).aof"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func smallBlocksAndAHugeCommandGiveEveryEntry() throws {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        for i in 0..<300 {
            offsets.append(bytes.count)
            let value = i == 150 ? String(repeating: "v", count: 100_000) : "value\(i)"
            bytes += AOFScannerTests.command("SET", "key:\(i)", value)
        }
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try AOFFileReader(path: path, blockSize: 4096)
        var seen: [Int] = []
        try reader.forEach { seen.append($0.offset); #expect($0.hasName("SET")) }
        #expect(seen == offsets)
        #expect(reader.offset == bytes.count)
    }

    @Test func aRangeStopsAtItsEndAndKeepsTheRestPending() throws {
        let one = AOFScannerTests.command("SET", "a", "1")
        let bytes = one + one + one
        let path = try Self.temporaryFile(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try AOFFileReader(path: path, from: one.count, to: 2 * one.count + 5)
        var count = 0
        while let entry = try reader.next() { count += 1; #expect(entry.offset == one.count) }
        #expect(count == 1 && reader.pendingBytes == 5 && reader.offset == 2 * one.count)
        #expect(throws: AOFError.self) { try reader.requireCleanEnd() }
    }

    @Test func truncatedFileNamesWhereTheCommandStarts() throws {
        let one = AOFScannerTests.command("SET", "a", "1")
        let path = try Self.temporaryFile(one + Array(one.dropLast(3)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try AOFFileReader(path: path)
        do {
            try reader.forEach { _ in }
            Issue.record("a truncated file must not read cleanly")
        } catch let error as AOFError {
            #expect(error.kind == .truncated && error.offset == one.count && error.file == path)
            #expect(error.description.contains("at byte \(one.count)"))
        }
    }

    @Test func missingFileIsAClearError() {
        do {
            _ = try AOFFileReader(path: "/nonexistent/redkeep.aof")
            Issue.record("opening a missing file must fail")
        } catch {
            #expect(error.description == "/nonexistent/redkeep.aof: cannot open: No such file or directory")
        }
    }

    @Test func transactionsAreTrackedAndBadNestingIsAnError() throws {
        let stream = [AOFScannerTests.command("SET", "a", "1"), AOFScannerTests.command("MULTI"),
                      AOFScannerTests.command("INCR", "a"), AOFScannerTests.command("INCR", "b"),
                      AOFScannerTests.command("EXEC"), AOFScannerTests.command("MULTI"),
                      AOFScannerTests.command("INCR", "a")].flatMap { $0 }
        let (entries, _) = try AOFScannerTests.scan(stream)
        var tracker = AOFTransactionTracker()
        var events: [AOFTransactionTracker.Event] = []
        for entry in entries { events.append(try tracker.observe(entry)) }
        let multiAt = entries[1].offset
        #expect(events == [.none, .began, .queued, .queued, .committed(.init(offset: multiAt, commands: 2)), .began, .queued])
        #expect(tracker.open == .init(offset: entries[5].offset, commands: 1))

        var nested = AOFTransactionTracker()
        _ = try nested.observe(entries[1])
        #expect(throws: AOFError.self) { _ = try nested.observe(entries[5]) }
        var stray = AOFTransactionTracker()
        #expect(throws: AOFError.self) { _ = try stray.observe(entries[4]) }
    }
}
