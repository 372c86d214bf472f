import AOF
import Foundation
import NIOCore

/// `archive verify`: every object the index names is present with its size and sha256,
/// every chunk parses on its own with the recorded command count, each stream's chunks
/// are contiguous from byte 0 and reach the size its stream-end record gives; every
/// archive object the index does not name, and a torn last index line, are reported.
public struct ArchiveVerifyResult: Sendable {
    /// What is wrong, one sentence each naming the object (and offset).
    public var problems: [String] = []
    /// What is odd but loses nothing (a torn last index line whose record's bytes are
    /// not in the archive either: the collector copies them again when it resumes).
    public var warnings: [String] = []
    /// Recorded gaps (facts about the archive, not damage).
    public var gaps: [ArchiveRecord.Gap] = []
    public var generations = 0
    public var streams = 0
    public var chunks = 0
    public var bytes = 0
    public var commands = 0

    /// True when nothing is wrong (warnings may remain).
    public var isSound: Bool { problems.isEmpty }

    /// Checks an archive, reading every object once. Blocking: call it off the event
    /// loops (``ArchiveIO``).
    public static func run(_ index: ArchiveIndex) throws(ArchiveError) -> ArchiveVerifyResult {
        var result = ArchiveVerifyResult()
        result.gaps = index.gaps
        let store = index.store
        var named = Set<String>()
        for g in index.generations {
            result.generations += 1
            named.insert(g.path)
            do throws(ArchiveError) {
                try ArchiveObjectCheck.verifyBase(g, in: store)
                result.bytes += g.size
                switch g.format {
                case .rdb:
                    let head = try store.read(g.path, range: 0..<5)
                    if head != Array("REDIS".utf8) { result.problems.append("generation \(g.gen): the base \(store.describe(g.path)) does not start like an RDB file (REDIS)") }
                case .aof:
                    if let problem = parse(try ArchiveObjectCheck.base(g, in: store), name: store.describe(g.path), expected: nil) {
                        result.problems.append("generation \(g.gen): \(problem)")
                    }
                }
            } catch {
                guard error.kind == .missing || error.kind == .damaged else { throw error }
                result.problems.append("generation \(g.gen): \(error.message)")
            }
        }
        for stream in index.streams.map(\.stream).sorted() {
            result.streams += 1
            var end = 0
            for chunk in index.chunks(of: stream) {
                result.chunks += 1
                named.insert(chunk.path)
                let name = store.describe(chunk.path)
                if chunk.offset > end {
                    result.problems.append("stream \(stream): bytes \(end)..<\(chunk.offset) are not in any chunk (before \(name))")
                } else if chunk.offset < end {
                    result.problems.append("stream \(stream): \(name) starts at byte \(chunk.offset), inside the previous chunk (which ends at \(end))")
                }
                end = max(end, chunk.end)
                result.commands += chunk.commands
                do throws(ArchiveError) {
                    let bytes = try ArchiveObjectCheck.chunk(chunk, in: store)
                    result.bytes += chunk.length
                    if let problem = parse(bytes, name: name, expected: chunk.commands) { result.problems.append("stream \(stream): \(problem)") }
                } catch {
                    guard error.kind == .missing || error.kind == .damaged else { throw error }
                    result.problems.append("stream \(stream): \(error.message)")
                }
            }
            if let endSize = index.endSize(of: stream), endSize != end,
               !index.gaps.contains(where: { $0.stream == stream }) {
                result.problems.append("stream \(stream): the chunks reach byte \(end) but the file ended at \(endSize) and no gap is recorded")
            }
        }
        // Objects no record names: their bytes are not part of any restore.
        let orphans = try store.list(prefix: "").filter { ArchiveLayout.isDataObject($0) && !named.contains($0) }.sorted()
        for key in orphans {
            result.problems.append("\(store.describe(key)) is in the archive but no index record names it: restores do not use its bytes")
        }
        if index.tornTail {
            let line = "the last line of the index is cut short (a crash while appending it): that record is not part of the archive"
            if orphans.isEmpty { result.warnings.append(line + "; no object is without its record, so nothing is lost") }
            else { result.problems.append(line + "; the objects above have no record") }
        }
        return result
    }

    /// Parses bytes whole; a problem sentence, or nil when they are sound.
    static func parse(_ bytes: ByteBuffer, name: String, expected: Int?) -> String? {
        do {
            let reader = AOFFileReader(bytes: bytes, name: name)
            var commands = 0
            while let entry = try reader.next() { if entry.isCommand { commands += 1 } }
            try reader.requireCleanEnd()
            if let expected, expected != commands { return "\(name) holds \(commands) commands, the index says \(expected)" }
            return nil
        } catch {
            return "\(name) does not parse: \(error)"
        }
    }
}
