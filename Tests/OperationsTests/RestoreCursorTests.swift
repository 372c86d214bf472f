import AOF
import Foundation
import Operations
import Testing

/// RESP bytes of one command, as an AOF holds it.
func aof(_ args: String...) -> String {
    "*\(args.count)\r\n" + args.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
}

/// A hand-made archive: an AOF base and streams whose chunks are given as text. Its
/// folder goes when the value does.
final class SyntheticArchive {
    let root: String
    private var openWriter: (any ArchiveIndexWriting)?
    var writer: any ArchiveIndexWriting { openWriter! }

    init() throws {
        root = NSTemporaryDirectory() + "redkeep-synthetic-\(UUID().uuidString)"
        openWriter = try LocalArchiveStore(root: root).openIndexWriter(creating: ArchiveDescriptor(created: 1000, source: "synthetic"))
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Lets go of the archive's lock (as a collector that stopped).
    func closeWriter() { openWriter = nil }

    func generation(_ gen: Int, base: String, firstStream: Int, asOf: Double) throws {
        let path = ArchiveLayout.basePath(gen: gen, format: .aof)
        let digest = try writer.store.write(path, bytes: Array(base.utf8)).sha256
        try writer.append(.generation(.init(gen: gen, sourceFile: "appendonly.aof.\(gen).base.aof", sourceSeq: Int64(gen), format: .aof, path: path,
                                            size: base.utf8.count, sha256: digest, firstStream: firstStream, asOf: asOf, recordedAt: asOf)))
    }

    /// A stream opened at `opened` with chunks (text, copied at).
    func stream(_ stream: Int, opened: Double, chunks: [(String, Double)], samples: Bool = false) throws {
        try writer.append(.stream(.init(stream: stream, sourceFile: "appendonly.aof.\(stream).incr.aof", sourceSeq: Int64(stream), openedBy: opened, recordedAt: opened)))
        var offset = 0
        for (text, at) in chunks {
            let path = ArchiveLayout.chunkPath(stream: stream, offset: offset)
            let digest = try writer.store.write(path, bytes: Array(text.utf8)).sha256
            var first: Int64?, last: Int64?, commands = 0
            let reader = try AOFFileReader(path: writer.store.describe(path))
            while let e = try reader.next() {
                if case .timestamp(let ts) = e.kind { first = first ?? ts; last = ts }
                if e.isCommand { commands += 1 }
            }
            try writer.append(.chunk(.init(stream: stream, offset: offset, length: text.utf8.count, sha256: digest, path: path,
                                           commands: commands, firstTimestamp: first, lastTimestamp: last, copiedAt: at)))
            offset += text.utf8.count
            if samples { try writer.append(.sample(.init(stream: stream, size: offset, at: at))) }
        }
    }

    var index: ArchiveIndex { get throws { try ArchiveIndex.read(root) } }

    /// Keys set by the entries a cursor hands out (SET's first argument), in order.
    func applied(_ target: ReplayTarget) throws -> (keys: [String], outcome: ReplayOutcome) {
        let cursor = ReplayCursor(try RestorePlan.make(try index, target: target))
        var keys: [String] = []
        while let e = try cursor.next() {
            if e.entry.isCommand { keys.append(e.entry.name == "SET" ? e.entry.argument(1)! : e.entry.name) }
        }
        return (keys, cursor.outcome)
    }
}

@Suite struct RestoreCursorTests {
    /// Base at 100; stream 1 with seconds 100..103 in two chunks.
    func timed() throws -> SyntheticArchive {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [
            ("#TS:100\r\n" + aof("SET", "a", "1") + "#TS:101\r\n" + aof("SET", "b", "1"), 102),
            (aof("MULTI") + aof("SET", "t1", "1") + aof("SET", "t2", "1") + aof("EXEC") + "#TS:103\r\n" + aof("SET", "d", "1"), 104),
        ])
        return a
    }

    @Test func cutsAtTheFirstTimestampAfterTheTarget() throws {
        let a = try timed()
        #expect(try a.applied(.time(second: 100, inclusive: true)).keys == ["a"])
        #expect(try a.applied(.time(second: 101, inclusive: false)).keys == ["a"])
        let (keys, outcome) = try a.applied(.time(second: 101, inclusive: true))
        #expect(keys == ["a", "b", "MULTI", "t1", "t2", "EXEC"])
        #expect(outcome.transactions == 1 && outcome.lastTimestamp == 101 && outcome.firstTimestamp == 100)
        #expect(outcome.stoppedAt?.stream == 1)
        #expect(try a.applied(.latest).keys.last == "d")
    }

    @Test func aTransactionCutByAnOffsetIsRolledBack() throws {
        let a = try timed()
        let chunk2 = try a.index.chunks(of: 1)[1].offset
        let (keys, outcome) = try a.applied(.offset(generation: 1, stream: 1, bytes: chunk2 + aof("MULTI").utf8.count + aof("SET", "t1", "1").utf8.count + 3))
        #expect(keys == ["a", "b"])
        #expect(outcome.rolledBack.count == 1)
        #expect(outcome.rolledBack[0].at.offset == chunk2 && outcome.rolledBack[0].commands == 1)
    }

    @Test func aTruncatedLastCommandAndAnOpenTransactionAtTheEndAreLeftOut() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        let partial = String(aof("SET", "cut", "short").dropLast(4))
        try a.stream(1, opened: 100, chunks: [(aof("SET", "a", "1"), 101), (aof("MULTI") + aof("SET", "t", "1"), 102)])
        let (keys, outcome) = try a.applied(.latest)
        #expect(keys == ["a"])
        #expect(outcome.rolledBack.count == 1 && outcome.rolledBack[0].reason.contains("ends before its EXEC"))

        let b = try SyntheticArchive()
        try b.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        try b.stream(1, opened: 100, chunks: [(aof("SET", "a", "1"), 101), (aof("SET", "b", "1") + partial, 102)])
        let (bKeys, bOutcome) = try b.applied(.latest)
        #expect(bKeys == ["a", "b"])
        let truncated = try #require(bOutcome.truncated)
        #expect(truncated.at.offset == (aof("SET", "a", "1") + aof("SET", "b", "1")).utf8.count)
        #expect(truncated.bytes == partial.utf8.count)
    }

    @Test func aChunkThatDoesNotMatchItsSha256StopsTheReplayNamingIt() throws {
        let a = try timed()
        let second = try a.index.chunks(of: 1)[1]
        let path = a.writer.store.describe(second.path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 3] = UInt8(ascii: "X")
        try bytes.write(to: URL(fileURLWithPath: path))
        let cursor = ReplayCursor(try RestorePlan.make(try a.index, target: .latest))
        var applied = 0
        do {
            while let e = try cursor.next() { if e.entry.isCommand { applied += 1 } }
            Issue.record("a damaged chunk was used")
        } catch {
            #expect("\(error)".contains(path) && "\(error)".contains("sha256"))
        }
        #expect(applied == 2)  // the first chunk's commands, nothing past the damaged one
        let verification = try ArchiveVerifyResult.run(try a.index)
        #expect(!verification.isSound && verification.problems.contains { $0.contains(path) })
        let sound = try timed()
        #expect(try ArchiveVerifyResult.run(try sound.index).isSound)
        withExtendedLifetime(sound) {}
    }

    @Test func aMissingOrDamagedBaseIsNamedAndNothingIsWritten() throws {
        let a = try timed()
        let plan = try RestorePlan.make(try a.index, target: .latest)
        try plan.verifyBase()
        try Data("*1\r\n$4\r\nPING\r\n".utf8).write(to: URL(fileURLWithPath: plan.baseName))
        #expect(throws: RestoreError.self) { try plan.verifyBase() }
        try FileManager.default.removeItem(atPath: plan.baseName)
        expectWriteRefused(plan, "a missing base was accepted", mentioning: [plan.baseName, "missing"])
    }

    @Test func refusesTimesOutsideTheCoverageAndInGaps() throws {
        let a = try timed()
        try a.writer.append(.gap(.init(stream: nil, offset: nil, from: 104, to: 110, reason: "collector stopped")))
        try a.writer.append(.sample(.init(stream: 1, size: 1, at: 120)))
        for target in [ReplayTarget.time(second: 50, inclusive: true), .time(second: 500, inclusive: true), .time(second: 105, inclusive: true)] {
            do {
                _ = try RestorePlan.make(try a.index, target: target)
                Issue.record("\(target) was accepted")
            } catch {
                #expect("\(error)".contains("the archive covers"))
            }
        }
        do { _ = try RestorePlan.make(try a.index, target: .mark("nope")); Issue.record("unknown mark accepted") } catch {
            #expect("\(error)".contains("no mark"))
        }
    }

    @Test func aGapBeforeANewerBaseDoesNotHideTheTimesThatBaseServes() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "g1", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [("#TS:100\r\n" + aof("SET", "a", "1"), 101)])
        // The collector was down from 150 to 300; Redis rewrote at 200 meanwhile. The
        // old stream's tail is lost, but generation 2 and its stream hold 200 onwards.
        try a.writer.append(.gap(.init(stream: 1, offset: 20, from: 150, to: 300, reason: "collector stopped")))
        try a.generation(2, base: aof("SET", "g2", "1"), firstStream: 2, asOf: 200)
        try a.stream(2, opened: 200, chunks: [("#TS:250\r\n" + aof("SET", "b", "1"), 301)])
        #expect(try a.applied(.time(second: 250, inclusive: true)).keys == ["b"])
        #expect(try RestorePlan.make(try a.index, target: .time(second: 250, inclusive: true)).generation.gen == 2)
        #expect(try a.applied(.time(second: 210, inclusive: true)).keys == [])
        // Before the newer base, the gap still refuses the lost seconds.
        do {
            _ = try RestorePlan.make(try a.index, target: .time(second: 160, inclusive: true))
            Issue.record("a time inside the gap before the newer base was accepted")
        } catch {
            #expect("\(error)".contains("gap"))
        }
    }

    @Test func anOffsetAtTheEndOfAStreamBeforeAGapIsReached() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "g1", "1"), firstStream: 1, asOf: 100)
        let first = "#TS:101\r\n" + aof("SET", "a", "1")
        try a.stream(1, opened: 100, chunks: [(first, 101)])
        // The link dropped after stream 1; stream 2 of the same base goes on after the gap.
        try a.writer.append(.gap(.init(stream: 1, offset: first.utf8.count, from: 102, to: 110, reason: "replica link lost")))
        try a.stream(2, opened: 110, chunks: [("#TS:111\r\n" + aof("SET", "b", "1"), 111)])
        // The target is the last byte before the gap: reached, nothing past the gap needed.
        let (keys, outcome) = try a.applied(.offset(generation: 1, stream: 1, bytes: first.utf8.count))
        #expect(keys == ["a"])
        #expect(outcome.rolledBack.isEmpty)
        // A target past the gap is still refused, naming it.
        do {
            _ = try a.applied(.offset(generation: 1, stream: 2, bytes: 5))
            Issue.record("a replay across the gap was accepted")
        } catch {
            #expect("\(error)".contains("gap"))
        }
    }

    @Test func withoutTimestampsTheSamplesAreTheTimeMap() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [(aof("SET", "a", "1"), 101.5), (aof("SET", "b", "1"), 102.5), (aof("SET", "c", "1"), 103.5)], samples: true)
        let plan = try RestorePlan.make(try a.index, target: .time(second: 101, inclusive: true))
        // Writes stamped 101 were made before 102: only the sample at 101.5 is sure to hold
        // nothing later; the next one (102.5) brackets the target: 1 s of precision.
        #expect(!plan.usesTimestamps && plan.precision == 1)
        #expect(try a.applied(.time(second: 101, inclusive: true)).keys == ["a"])
        #expect(try a.applied(.time(second: 102, inclusive: true)).keys == ["a", "b"])
        #expect(try a.applied(.time(second: 101, inclusive: false)).keys == [])
    }

    @Test func marksAndBeforeFirst() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [("#TS:100\r\n" + aof("SET", "a", "1") + aof("FLUSHDB") + "#TS:101\r\n" + aof("SET", "b", "1")
                                               + aof("SET", "redkeep:mark:m", "1") + aof("FLUSHALL") + aof("SET", "c", "1"), 102)])
        try a.writer.append(.mark(.init(name: "m", key: "redkeep:mark:m", at: 101.5, stream: 1)))
        #expect(try a.applied(.mark("m")).keys == ["a", "FLUSHDB", "b"])
        #expect(try a.applied(.beforeFirst(commands: ["FLUSHALL", "FLUSHDB"], notBefore: 101)).keys == ["a", "FLUSHDB", "b", "redkeep:mark:m"])
        #expect(try a.applied(.beforeFirst(commands: ["FLUSHALL", "FLUSHDB"], notBefore: 100)).keys == ["a"])
    }

    @Test func pruneKeepsTheGenerationAKeptTimeNeeds() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "g1", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [("#TS:100\r\n" + aof("SET", "a", "1"), 150)])
        try a.generation(2, base: aof("SET", "g2", "1"), firstStream: 2, asOf: 200)
        try a.stream(2, opened: 200, chunks: [("#TS:200\r\n" + aof("SET", "b", "1"), 250)])
        try a.generation(3, base: aof("SET", "g3", "1"), firstStream: 3, asOf: 300)
        try a.stream(3, opened: 300, chunks: [("#TS:300\r\n" + aof("SET", "c", "1"), 350)])
        let root = a.root
        // A window starting at 250 needs generation 2 (as of 200).
        let dry = try ArchivePrune.run(LocalArchiveStore(root: root), keep: .window(100), now: 350, dryRun: true)
        #expect(dry.droppedGenerations == [1] && dry.keptFrom == 2)
        // The test's own writer holds the lock: prune refuses while a collector runs.
        #expect(throws: ArchiveError.self) { try ArchivePrune.run(LocalArchiveStore(root: root), keep: .window(100), now: 350) }
        withExtendedLifetime(a.writer) {}
    }

    @Test func pruneDropsOldGenerationsAndTheirFiles() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "g1", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [("#TS:100\r\n" + aof("SET", "a", "1"), 150)])
        try a.generation(2, base: aof("SET", "g2", "1"), firstStream: 2, asOf: 200)
        try a.stream(2, opened: 200, chunks: [("#TS:200\r\n" + aof("SET", "b", "1"), 250)])
        a.closeWriter()
        let root = a.root
        let result = try ArchivePrune.run(LocalArchiveStore(root: root), keep: .generations(1), now: 300)
        #expect(result.droppedGenerations == [1] && result.droppedStreams == [1])
        let index = try ArchiveIndex.read(root)
        #expect(index.generations.map(\.gen) == [2] && index.streams.map(\.stream) == [2])
        #expect(!FileManager.default.fileExists(atPath: root + "/gen-000001"))
        #expect(!FileManager.default.fileExists(atPath: root + "/stream-000001"))
        #expect(try ArchiveVerifyResult.run(index).isSound)
        #expect(try SyntheticArchiveReplay.keys(root) == ["b"])
    }
}

enum SyntheticArchiveReplay {
    static func keys(_ root: String) throws -> [String] {
        let cursor = ReplayCursor(try RestorePlan.make(try ArchiveIndex.read(root), target: .latest))
        var keys: [String] = []
        while let e = try cursor.next() { if e.entry.isCommand { keys.append(e.entry.argument(1)!) } }
        return keys
    }
}

@Suite struct AOFFolderWriterTests {
    /// Chunks before the cut are copied whole, a chunk holding a MULTI is read entry by
    /// entry, and the cut chunk is cut: the incr file equals the archived bytes up to the
    /// first #TS after the target, whatever path each chunk took.
    @Test func writesTheArchivedBytesUpToTheCut() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        let chunks = [
            "#TS:100\r\n" + aof("SET", "a", "1"),
            aof("MULTI") + aof("SET", "t", "1") + aof("EXEC"),
            "#TS:101\r\n" + aof("set", "x", "$5\r\nmulti\r\n"),
            aof("SET", "b", "1") + "#TS:102\r\n" + aof("SET", "c", "1"),
            "#TS:103\r\n" + aof("SET", "d", "1"),
        ]
        try a.stream(1, opened: 100, chunks: chunks.map { ($0, 104) })
        for (second, expected) in [(Int64(101), chunks[0] + chunks[1] + chunks[2] + aof("SET", "b", "1")), (103, chunks.joined())] {
            let plan = try RestorePlan.make(try a.index, target: .time(second: second, inclusive: true))
            let out = NSTemporaryDirectory() + "redkeep-aof-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: out) }
            let outcome = try AOFFolderWriter(plan: plan, folder: out).run()
            let written = try String(contentsOfFile: out + "/appendonly.aof.1.incr.aof", encoding: .utf8)
            #expect(written == expected)
            #expect(outcome.bytes == expected.utf8.count)
            #expect(outcome.lastTimestamp == second && outcome.transactions == 1)
            let manifest = try AOFManifest.load(out + "/appendonly.aof.manifest")
            #expect(manifest.base?.name == "appendonly.aof.1.base.aof" && manifest.incrs.map(\.name) == ["appendonly.aof.1.incr.aof"])
            #expect(try String(contentsOfFile: out + "/appendonly.aof.1.base.aof", encoding: .utf8) == aof("SET", "base", "1"))
        }
    }
    /// The next chunk is read and checked on a helper thread while one is written: a
    /// damaged chunk in the middle still stops the write there, named, with no folder
    /// left that looks finished.
    @Test func aDamagedChunkStopsTheWriteWhileTheNextIsReadAhead() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        let chunks = (0..<6).map { "#TS:\(100 + $0)\r\n" + aof("SET", "k\($0)", "v") }
        try a.stream(1, opened: 100, chunks: chunks.map { ($0, 106) })
        let plan = try RestorePlan.make(try a.index, target: .latest)
        let damaged = plan.index.store.describe(plan.streams[0].chunks[3].path)
        try Data(chunks[3].replacingOccurrences(of: "v", with: "w").utf8).write(to: URL(fileURLWithPath: damaged))
        expectWriteRefused(plan, "a damaged chunk was written", mentioning: [damaged, "sha256"],
                           leavesNo: ["appendonly.aof.manifest", "appendonly.aof.1.incr.aof"])
    }
}

/// Writing `plan` as an AOF folder fails with an error naming each of `words`, and leaves
/// none of `files` behind (no manifest: Redis would not load a half-written folder).
func expectWriteRefused(_ plan: RestorePlan, _ acceptedMessage: Comment, mentioning words: [String],
                        leavesNo files: [String] = ["appendonly.aof.manifest"],
                        sourceLocation: SourceLocation = #_sourceLocation) {
    let out = NSTemporaryDirectory() + "redkeep-aof-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: out) }
    do {
        _ = try AOFFolderWriter(plan: plan, folder: out).run()
        Issue.record(acceptedMessage, sourceLocation: sourceLocation)
    } catch {
        let message = "\(error)"
        #expect(words.allSatisfy { message.contains($0) }, "\(message)", sourceLocation: sourceLocation)
    }
    for file in files {
        #expect(!FileManager.default.fileExists(atPath: out + "/" + file), sourceLocation: sourceLocation)
    }
}
