import AOF
import NIOCore

/// Finds a drill's mark in the archive: the chunk holding `SET redkeep:mark:NAME`, and the
/// offset just after the mark's write (after its EXEC when Redis wrapped it in
/// MULTI/EXEC), which is where the restore stops. Searches by content, so it needs no
/// index record and works whichever process (or replica collector) archives the server.
struct MarkLocator {
    /// The position a restore stops at: everything up to and including the mark's write.
    struct Position: Sendable, Hashable, CustomStringConvertible {
        let generation: Int
        let stream: Int
        let end: Int
        var description: String { "\(generation):\(stream):\(end)" }
    }

    let store: any ArchiveStore
    let key: String
    /// Chunks already searched (or archived before the mark, which cannot hold it).
    private(set) var searched: Set<String> = []
    /// Where the mark's write was found, waiting for the command after it.
    private var found: (stream: Int, path: String)?

    init(store: any ArchiveStore, key: String, before index: ArchiveIndex) {
        self.store = store
        self.key = key
        searched = Set(index.chunks.map(\.path))
    }

    /// Reads the index and the chunks not searched yet: the mark's position, or nil
    /// while it is not (wholly) archived.
    mutating func poll() throws(ArchiveError) -> Position? {
        let index = try ArchiveIndex.read(store)
        let needle = Array(key.utf8)
        if found == nil {
            search: for stream in index.streams.map(\.stream).sorted() {
                for chunk in index.chunks(of: stream) where !searched.contains(chunk.path) {
                    let bytes = try ArchiveObjectCheck.chunk(chunk, in: store)
                    searched.insert(chunk.path)
                    if Self.contains(bytes, needle) { found = (stream, chunk.path); break search }
                }
            }
        }
        guard let found else { return nil }
        guard let generation = index.generations.last(where: { $0.firstStream <= found.stream }) else {
            throw ArchiveError(.missing, "the mark \(key) lies in stream \(found.stream), which no base of \(store.location) precedes (pruned?)")
        }
        guard let end = try cut(in: index.chunks(of: found.stream), at: found.path) else { return nil }
        return Position(generation: generation.gen, stream: found.stream, end: end)
    }

    /// The offset after the mark's write, or nil while the command after it (which says
    /// whether an EXEC closes it) is not archived yet.
    private func cut(in chunks: [ArchiveRecord.Chunk], at path: String) throws(ArchiveError) -> Int? {
        guard let i = chunks.firstIndex(where: { $0.path == path }) else { return nil }
        let entries = try commands(chunks[i])
        guard let j = entries.firstIndex(where: { $0.name == "SET" && $0.key == key }) else {
            throw ArchiveError(.damaged, "chunk \(store.describe(path)) holds the bytes of \(key) but no SET of it")
        }
        let set = entries[j]
        var next = entries.dropFirst(j + 1).first
        if next == nil, i + 1 < chunks.count, chunks[i + 1].offset == chunks[i].end { next = try commands(chunks[i + 1]).first }
        if let next { return next.name == "EXEC" ? next.end : set.end }
        // Nothing after the mark yet: inside MULTI its EXEC is still to come.
        var previous = entries[..<j].last { $0.name != "SELECT" }
        if previous == nil, j == 0, i > 0, chunks[i - 1].end == chunks[i].offset {
            previous = try commands(chunks[i - 1]).last { $0.name != "SELECT" }
        }
        return previous?.name == "MULTI" ? nil : set.end
    }

    private struct Command {
        let name: String
        let key: String?
        let end: Int
    }

    private func commands(_ chunk: ArchiveRecord.Chunk) throws(ArchiveError) -> [Command] {
        let path = store.describe(chunk.path)
        let reader = AOFFileReader(bytes: try ArchiveObjectCheck.chunk(chunk, in: store), name: path)
        var result: [Command] = []
        while true {
            let next: AOFEntry?
            do { next = try reader.next() } catch { throw ArchiveError(.damaged, "chunk \(path) does not parse: \(error)", object: path, underlying: error) }
            guard let entry = next else { return result }
            guard entry.isCommand else { continue }
            result.append(Command(name: entry.name, key: entry.argumentCount >= 2 ? entry.argument(1) : nil, end: chunk.offset + entry.endOffset))
        }
    }

    private static func contains(_ buffer: ByteBuffer, _ needle: [UInt8]) -> Bool {
        buffer.withUnsafeReadableBytes { raw in
            guard let first = needle.first, raw.count >= needle.count else { return false }
            var i = 0
            let last = raw.count - needle.count
            while i <= last {
                if raw[i] == first, needle.indices.allSatisfy({ raw[i + $0] == needle[$0] }) { return true }
                i += 1
            }
            return false
        }
    }
}
