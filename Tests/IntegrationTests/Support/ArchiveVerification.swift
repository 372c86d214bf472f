import AOF
import Crypto
import Foundation
import Operations
import Testing

/// Checks an archive against the AOF folder it was collected from, independently of the
/// collector: every chunk's bytes match its sha256 and parse as whole commands on their
/// own, each stream's chunks are contiguous from offset 0 (no gap, no duplicate byte), and
/// concatenated they equal the incr file on disk byte for byte; every base copy equals its
/// source base. Needs `aof-disable-auto-gc yes` so Redis keeps the files it replaced.
enum ArchiveVerification {
    struct Summary {
        var streams = 0
        var generations = 0
        var chunks = 0
        var bytes = 0
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ArchiveError("cannot read \(path)") }
        return [UInt8](data)
    }

    @discardableResult
    static func verify(archive: String, aofDirectory: String) throws -> Summary {
        let index = try ArchiveIndex.read(archive)
        let layout = LocalArchiveStore(root: archive)
        var summary = Summary()
        #expect(index.gaps.isEmpty, "unexpected gaps: \(index.gaps)")
        #expect(!index.tornTail)
        for stream in index.streams {
            summary.streams += 1
            var offset = 0
            var joined: [UInt8] = []
            for chunk in index.chunks(of: stream.stream) {
                #expect(chunk.offset == offset, "stream \(stream.stream): chunk at \(chunk.offset), expected \(offset)")
                let bytes = try read(layout.describe(chunk.path))
                #expect(bytes.count == chunk.length, "\(chunk.path): \(bytes.count) bytes, record says \(chunk.length)")
                #expect(sha256(bytes) == chunk.sha256, "\(chunk.path): sha256 differs")
                // Parses on its own, ending on a command boundary.
                let reader = try AOFFileReader(path: layout.describe(chunk.path))
                var commands = 0
                try reader.forEach { if $0.isCommand { commands += 1 } }
                #expect(commands == chunk.commands, "\(chunk.path): \(commands) commands, record says \(chunk.commands)")
                joined += bytes
                offset = chunk.end
                summary.chunks += 1
                summary.bytes += bytes.count
            }
            let source = try read(aofDirectory + "/" + stream.sourceFile)
            #expect(joined.count == source.count, "stream \(stream.stream) (\(stream.sourceFile)): archived \(joined.count) bytes, the file has \(source.count)")
            #expect(joined == source, "stream \(stream.stream) (\(stream.sourceFile)): archived bytes differ from the file")
            if let end = index.endSize(of: stream.stream) { #expect(end == source.count) }
        }
        // No two records for the same chunk (a resumed collector must not copy twice).
        let keys = index.chunks.map { "\($0.stream)/\($0.offset)" }
        #expect(Set(keys).count == keys.count, "duplicate chunk records")
        for gen in index.generations {
            summary.generations += 1
            let copy = try read(layout.describe(gen.path))
            #expect(copy.count == gen.size)
            #expect(sha256(copy) == gen.sha256, "\(gen.path): sha256 differs")
            #expect(copy == (try read(aofDirectory + "/" + gen.sourceFile)), "\(gen.path) differs from \(gen.sourceFile)")
            #expect(index.streams.contains { $0.stream == gen.firstStream }, "gen \(gen.gen): first stream \(gen.firstStream) unknown")
        }
        return summary
    }
}
