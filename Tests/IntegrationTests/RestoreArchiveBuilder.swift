import AOF
import Foundation
import Operations

/// A small stand-in collector for the restore tests: it follows a real redis-server's AOF
/// folder and copies its real base and incr files into the archive format (chunks cut at
/// command boundaries with AOFFileReader, sha256, samples, stream ends, generations).
/// Call ``collect()`` whenever the server is quiet; the server should run with
/// `aof-disable-auto-gc yes` so a rewrite's old files stay readable until collected.
final class RestoreArchiveBuilder {
    let root: String
    let aofFolder: String
    let store: LocalArchiveStore
    let writer: any ArchiveIndexWriting
    private var streams: [String: Int] = [:]      // incr file name -> stream
    private var copied: [Int: Int] = [:]          // stream -> bytes archived
    private var ended: Set<Int> = []
    private var bases: Set<String> = []
    private var nextStream = 1
    private var nextGeneration = 1
    /// Chunk size: small, so streams have several chunks.
    var chunkBytes = 4096

    init(root: String, serverDirectory: String,
         descriptor: ArchiveDescriptor = ArchiveDescriptor(created: Date().timeIntervalSince1970, source: "test")) throws {
        self.root = root
        self.aofFolder = serverDirectory + "/appendonlydir"
        store = LocalArchiveStore(root: root)
        writer = try store.openIndexWriter(creating: descriptor)
    }

    /// Copies whatever is new: new incr files (streams), their new bytes (chunks), a
    /// sample per stream, stream ends, and a new base (generation).
    func collect() throws {
        let manifest = try AOFManifest.load(aofFolder + "/" + AOFManifest.fileName())
        let incrs = manifest.files.filter { $0.name.contains(".incr.") }.sorted { $0.seq < $1.seq }
        for file in incrs where streams[file.name] == nil {
            let stream = nextStream
            nextStream += 1
            streams[file.name] = stream
            copied[stream] = 0
            try writer.append(.stream(.init(stream: stream, sourceFile: file.name, sourceSeq: file.seq,
                                            openedBy: Date().timeIntervalSince1970, recordedAt: Date().timeIntervalSince1970)))
        }
        let current = manifest.currentIncr?.name
        for file in incrs {
            let stream = streams[file.name]!
            guard !ended.contains(stream) else { continue }
            try copyNewBytes(of: file.name, stream: stream)
            if file.name != current {
                // Redis appends only to the newest incr file: this one is complete.
                ended.insert(stream)
                try writer.append(.streamEnd(.init(stream: stream, size: copied[stream]!, at: Date().timeIntervalSince1970)))
            }
        }
        if let base = manifest.base, !bases.contains(base.name), let first = manifest.incrs.first, let firstStream = streams[first.name] {
            bases.insert(base.name)
            let gen = nextGeneration
            nextGeneration += 1
            let format: BaseFormat = base.isRDB ? .rdb : .aof
            let relative = ArchiveLayout.basePath(gen: gen, format: format)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: aofFolder + "/" + base.name))
            let digest = try store.write(relative, bytes: Array(bytes)).sha256
            let now = Date().timeIntervalSince1970
            try writer.append(.generation(.init(gen: gen, sourceFile: base.name, sourceSeq: base.seq, format: format, path: relative,
                                                size: bytes.count, sha256: digest, firstStream: firstStream, asOf: now, recordedAt: now)))
        }
    }

    /// Appends a mark record (the test writes the mark's key to the server itself).
    func mark(_ name: String, at: Double) throws {
        try writer.append(.mark(.init(name: name, key: ArchiveRecord.Mark.key(for: name), at: at, stream: nextStream - 1)))
    }

    private func copyNewBytes(of name: String, stream: Int) throws {
        let path = aofFolder + "/" + name
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let sampledAt = Date().timeIntervalSince1970
        var start = copied[stream]!
        let reader = try AOFFileReader(path: path, from: start, to: size)
        var chunkStart = start
        var commands = 0
        var first: Int64?, last: Int64?
        func flush(upTo end: Int) throws {
            guard end > chunkStart else { return }
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: end - chunkStart)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, end - chunkStart, off_t(chunkStart)) }
            precondition(got == end - chunkStart)
            let relative = ArchiveLayout.chunkPath(stream: stream, offset: chunkStart)
            let digest = try store.write(relative, bytes: bytes).sha256
            try writer.append(.chunk(.init(stream: stream, offset: chunkStart, length: bytes.count, sha256: digest, path: relative,
                                           commands: commands, firstTimestamp: first, lastTimestamp: last, copiedAt: Date().timeIntervalSince1970)))
            chunkStart = end
            commands = 0; first = nil; last = nil
        }
        while let entry = try reader.next() {
            if case .timestamp(let ts) = entry.kind { if first == nil { first = ts }; last = ts }
            if entry.isCommand { commands += 1 }
            if entry.endOffset - chunkStart >= chunkBytes { try flush(upTo: entry.endOffset) }
        }
        try flush(upTo: reader.offset)
        start = reader.offset
        copied[stream] = start
        try writer.append(.sample(.init(stream: stream, size: start, at: sampledAt)))
    }
}
