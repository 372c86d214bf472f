import NIOCore
import Foundation

/// A remote archive (a bucket) written through a local spool, so that an object store
/// outage or a slow link never holds up copying from the AOF: every object and record is
/// first made durable in the spool (a local archive folder), then an ``ArchiveUploader``
/// thread ships them in order, objects before the records naming them, and deletes a
/// spooled object only once the store confirmed it (its SHA-256, checked by the client
/// against what the store received) and its record is published.
///
/// The spool's index holds the remote's records followed by those still to upload: the
/// backlog is the spool's records past the remote's count. Readers of the remote see a
/// consistent archive throughout (they only ever see what was published).
///
/// The collector writes through this store exactly as through any other; reads look in
/// the spool first, then in the remote.
public final class ForwardingArchiveStore: ArchiveStore, @unchecked Sendable {
    // @unchecked: immutable references; the uploader guards its own state.
    /// Where objects and records wait for their upload.
    public let spool: LocalArchiveStore
    /// Where they go.
    public let remote: any ArchiveStore
    let uploader: ArchiveUploader

    /// Wraps `remote` with the spool folder `spool`. When the spool holds no archive yet
    /// and the remote does, the spool starts as a copy of the remote's index (which needs
    /// the remote reachable); a spool left by an earlier run is resumed as it is, and its
    /// backlog shipped once the remote answers. The uploads run at `priority` (see
    /// ``UploadPriority``); reads through this store keep to `remote` as given.
    public init(remote: any ArchiveStore, spool folder: String, pause: Duration, rate: Int?,
                priority: UploadPriority = .normal) throws(ArchiveError) {
        self.spool = LocalArchiveStore(root: folder)
        self.remote = remote
        if try spool.readIndex() == nil, let index = try remote.readIndex() {
            let parsed = try ArchiveIndex.parse(index, store: remote)
            let writer = try spool.openIndexWriter(creating: parsed.descriptor)
            defer { writer.close() }
            try writer.append(parsed.records)
        }
        self.uploader = ArchiveUploader(spool: spool, remote: remote, pause: pause, rate: rate, priority: priority)
    }

    public var location: String { remote.location }
    public func describe(_ key: String) -> String { remote.describe(key) }
    public var parallelReads: Int { remote.parallelReads }

    public func size(of key: String) throws(ArchiveError) -> Int? {
        if let size = try spool.size(of: key) { return size }
        return try remote.size(of: key)
    }

    public func read(_ key: String) throws(ArchiveError) -> [UInt8]? {
        if let bytes = try spool.read(key) { return bytes }
        return try remote.read(key)
    }

    public func readBuffer(_ key: String) throws(ArchiveError) -> ByteBuffer? {
        if let bytes = try spool.readBuffer(key) { return bytes }
        return try remote.readBuffer(key)
    }

    public func readPieces(_ key: String, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) -> Int? {
        if let count = try spool.readPieces(key, body) { return count }
        return try remote.readPieces(key, body)
    }

    /// Reads of objects already shipped are the remote's.
    public var readsAreDownloads: Bool { remote.readsAreDownloads }

    public func read(_ key: String, range: Range<Int>) throws(ArchiveError) -> [UInt8] {
        if try spool.size(of: key) != nil { return try spool.read(key, range: range) }
        return try remote.read(key, range: range)
    }

    public func write(_ key: String, replacing: Bool,
                      _ body: (inout ArchiveObjectWriter) throws(ArchiveError) -> Void) throws(ArchiveError) -> ArchiveObjectInfo {
        try spool.write(key, replacing: replacing, body)
    }

    public func list(prefix: String) throws(ArchiveError) -> [String] {
        Array(Set(try spool.list(prefix: prefix)).union(try remote.list(prefix: prefix)))
    }

    public func delete(_ keys: [String]) throws(ArchiveError) {
        try spool.delete(keys)
        try remote.delete(keys)
    }

    /// The spool's index: everything recorded, shipped or not.
    public func readIndex() throws(ArchiveError) -> ArchiveIndexData? { try spool.readIndex() }

    /// Locks the spool and starts the uploader, which takes the remote's lease.
    public func openIndexWriter(creating descriptor: ArchiveDescriptor?) throws(ArchiveError) -> any ArchiveIndexWriting {
        let local = try spool.openIndexWriter(creating: descriptor)
        uploader.start()
        return ForwardingIndexWriter(store: self, local: local)
    }

    /// The upload backlog and the last upload error.
    public func uploadStatus() -> ArchiveUploadStatus { uploader.status() }

    /// Ships what is waiting for up to `drain`, then stops the uploader and gives the
    /// remote's lease back. Once everything is shipped the spool's index goes too, so the
    /// next run starts again from the remote's (which an archive prune may have changed).
    public func finish(drain: Duration = .seconds(15)) {
        uploader.finish(drain: drain)
    }
}

/// Publishes to the spool's index and hands the records to the uploader.
final class ForwardingIndexWriter: ArchiveIndexWriting, @unchecked Sendable {
    // @unchecked: used by one thread at a time, like every index writer.
    let forwarding: ForwardingArchiveStore
    let local: any ArchiveIndexWriting
    var store: any ArchiveStore { forwarding }

    init(store: ForwardingArchiveStore, local: any ArchiveIndexWriting) {
        self.forwarding = store
        self.local = local
    }

    func append(_ records: [ArchiveRecord]) throws(ArchiveError) {
        try forwarding.uploader.enqueue(records) { () throws(ArchiveError) in try local.append(records) }
    }

    func replaceAll(with records: [ArchiveRecord]) throws(ArchiveError) {
        throw ArchiveError(.invalidRequest, "\(forwarding.location) is written through the spool \(forwarding.spool.root): prune the archive itself, with no collector running")
    }

    func close() { local.close() }
}
