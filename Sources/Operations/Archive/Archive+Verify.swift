import AOF
import Foundation

/// `archive verify`: every file the index names is present with its size and sha256,
/// every chunk parses on its own with the recorded command count, each stream's chunks
/// are contiguous from byte 0 and reach the size its stream-end record gives.
public struct ArchiveVerifyResult: Sendable {
    /// What is wrong, one sentence each naming the file (and offset).
    public var problems: [String] = []
    /// Recorded gaps (facts about the archive, not damage).
    public var gaps: [ArchiveRecord.Gap] = []
    public var generations = 0
    public var streams = 0
    public var chunks = 0
    public var bytes = 0
    public var commands = 0

    /// True when nothing is wrong.
    public var isSound: Bool { problems.isEmpty }

    /// Checks an archive, reading every file once (twice for chunks: hash, then parse).
    public static func run(_ index: ArchiveIndex) -> ArchiveVerifyResult {
        var result = ArchiveVerifyResult()
        result.gaps = index.gaps
        let layout = index.layout
        for g in index.generations {
            result.generations += 1
            let path = layout.absolute(g.path)
            guard let size = Self.size(path) else { result.problems.append("generation \(g.gen): the base \(path) is missing"); continue }
            result.bytes += size
            if size != g.size { result.problems.append("generation \(g.gen): the base \(path) has \(size) bytes, the index says \(g.size)") }
            if let digest = try? DurableFile.sha256(ofFile: path), digest != g.sha256 {
                result.problems.append("generation \(g.gen): the base \(path) does not match its sha256")
            }
            if g.format == "rdb" {
                let head = FileManager.default.contents(atPath: path).map { Array($0.prefix(5)) } ?? []
                if head != Array("REDIS".utf8) { result.problems.append("generation \(g.gen): the base \(path) does not start like an RDB file (REDIS)") }
            } else if let problem = Self.parse(path, expected: nil) {
                result.problems.append("generation \(g.gen): \(problem)")
            }
        }
        for stream in index.streams.map(\.stream).sorted() {
            result.streams += 1
            var end = 0
            for chunk in index.chunks(of: stream) {
                result.chunks += 1
                let path = layout.absolute(chunk.path)
                if chunk.offset > end {
                    result.problems.append("stream \(stream): bytes \(end)..<\(chunk.offset) are not in any chunk (before \(path))")
                } else if chunk.offset < end {
                    result.problems.append("stream \(stream): \(path) starts at byte \(chunk.offset), inside the previous chunk (which ends at \(end))")
                }
                end = max(end, chunk.end)
                guard let size = Self.size(path) else { result.problems.append("stream \(stream): the chunk \(path) is missing"); continue }
                result.bytes += size
                result.commands += chunk.commands
                if size != chunk.length { result.problems.append("stream \(stream): the chunk \(path) has \(size) bytes, the index says \(chunk.length)"); continue }
                if let digest = try? DurableFile.sha256(ofFile: path), digest != chunk.sha256 {
                    result.problems.append("stream \(stream): the chunk \(path) does not match its sha256")
                    continue
                }
                if let problem = Self.parse(path, expected: chunk.commands) { result.problems.append("stream \(stream): \(problem)") }
            }
            if let endSize = index.endSize(of: stream), endSize != end,
               !index.gaps.contains(where: { $0.stream == stream }) {
                result.problems.append("stream \(stream): the chunks reach byte \(end) but the file ended at \(endSize) and no gap is recorded")
            }
        }
        return result
    }

    /// Parses a file whole; a problem sentence, or nil when it is sound.
    static func parse(_ path: String, expected: Int?) -> String? {
        do {
            let reader = try AOFFileReader(path: path)
            var commands = 0
            while let entry = try reader.next() { if entry.isCommand { commands += 1 } }
            try reader.requireCleanEnd()
            if let expected, expected != commands { return "\(path) holds \(commands) commands, the index says \(expected)" }
            return nil
        } catch {
            return "\(path) does not parse: \(error)"
        }
    }

    static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }
}
