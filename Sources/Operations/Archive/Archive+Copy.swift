import Foundation

/// `archive copy SRC DST`: copies an archive between stores (a folder and a bucket,
/// either way, or two of a kind), checking every object against its record on the way.
///
/// The destination must hold nothing yet. Its descriptor is created and its lock taken
/// first, then every object the index names is copied (each read whole and checked, or
/// streamed and hashed for bases, and written whole or not at all), and only then are the
/// records published, in one append: a reader of the destination sees either no records
/// or all of them, never a record whose object is not there yet. Objects the source's
/// index does not name (orphans of a crash) are not copied.
public enum ArchiveCopy {
    /// What was copied.
    public struct Result: Sendable {
        /// Objects copied (bases and chunks).
        public var objects = 0
        /// Their bytes.
        public var bytes = 0
        /// Index records published.
        public var records = 0
    }

    /// Bases are copied in pieces of this size (memory stays bounded).
    static let piece = 8 << 20

    /// Copies `source` into the empty `destination`. Blocking: call it off the event loops
    /// (``ArchiveIO``). `progress` hears each object copied.
    public static func run(from source: any ArchiveStore, to destination: any ArchiveStore,
                           progress: ((_ key: String, _ bytes: Int) -> Void)? = nil) throws(ArchiveError) -> Result {
        let index = try ArchiveIndex.read(source)
        if try destination.readIndex() != nil {
            throw ArchiveError(.invalidRequest, "\(destination.location) holds an archive already: archive copy writes only into an empty destination", object: destination.location)
        }
        let present = try destination.list(prefix: "")
        guard present.isEmpty else {
            let shown = present.sorted().prefix(3).joined(separator: ", ")
            throw ArchiveError(.invalidRequest, "\(destination.location) is not empty (\(present.count) objects: \(shown)\(present.count > 3 ? ", ..." : "")): archive copy writes only into an empty destination", object: destination.location)
        }
        let writer = try destination.openIndexWriter(creating: index.descriptor)
        defer { writer.close() }
        var result = Result()
        for generation in index.generations {
            try copyBase(generation, from: source, to: destination)
            result.objects += 1
            result.bytes += generation.size
            progress?(generation.path, generation.size)
        }
        for chunk in index.chunks {
            let bytes = try ArchiveObjectCheck.chunk(chunk, in: source)
            let info = try destination.write(chunk.path, bytes: bytes.readableBytesView)
            try check(info, size: chunk.length, sha256: chunk.sha256, of: chunk.path, in: destination)
            result.objects += 1
            result.bytes += chunk.length
            progress?(chunk.path, chunk.length)
        }
        try writer.append(index.records)
        result.records = index.records.count
        return result
    }

    /// Streams a base across, hashing it as it goes: a base that does not match its record
    /// fails the write, so the destination never holds it.
    static func copyBase(_ generation: ArchiveRecord.Generation, from source: any ArchiveStore, to destination: any ArchiveStore) throws(ArchiveError) {
        let name = source.describe(generation.path)
        let what = "the base of generation \(generation.gen) (\(name))"
        let info = try destination.write(generation.path, replacing: false) { writer throws(ArchiveError) in
            var position = 0
            while position < generation.size {
                let bytes = try source.read(generation.path, range: position..<min(generation.size, position + piece))
                guard !bytes.isEmpty else {
                    throw ArchiveError(.damaged, "\(what) ends at byte \(position), the index says \(generation.size)", object: name)
                }
                try writer.append(bytes)
                position += bytes.count
            }
            if let size = try source.size(of: generation.path), size != generation.size {
                throw ArchiveError(.damaged, "\(what) has \(size) bytes, the index says \(generation.size)", object: name)
            }
            let digest = writer.finish().sha256
            guard digest == generation.sha256 else {
                throw ArchiveError(.damaged, "\(what) does not match its sha256 (index \(generation.sha256.prefix(12))..., object \(digest.prefix(12))...)", object: name)
            }
        }
        try check(info, size: generation.size, sha256: generation.sha256, of: generation.path, in: destination)
    }

    /// Throws when what was written is not what the record says.
    static func check(_ info: ArchiveObjectInfo, size: Int, sha256: String, of key: String, in store: any ArchiveStore) throws(ArchiveError) {
        guard info.size == size, info.sha256 == sha256 else {
            let name = store.describe(key)
            throw ArchiveError(.damaged, "\(name): wrote \(info.size) bytes (sha256 \(info.sha256.prefix(12))...), the record says \(size) (sha256 \(sha256.prefix(12))...)", object: name)
        }
    }
}
