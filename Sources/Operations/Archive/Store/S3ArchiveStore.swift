import Foundation
import NIOCore
import S3

/// An archive in an S3-compatible bucket, under a key prefix. Object storage has no
/// append, no rename and no lock, so the layout is made of immutable objects only:
///
/// ```
/// s3://BUCKET/PREFIX/
///   archive.json                           ArchiveDescriptor, created once (If-None-Match: *)
///   lease.json                             the writer's lease: holder and expiry, renewed
///   index/current.json                     {"epoch": N}: which index epoch is current
///   index/000001/000000000001.jsonl        segments of records, each created once
///   index/000001/000000000002.jsonl        (If-None-Match: *), numbered without gaps
///   gen-000001/base.rdb                    objects, each PUT whole (or not at all)
///   stream-000001/000000000000.chunk
/// ```
///
/// See ``S3IndexWriter`` for how segments, epochs and the lease keep readers consistent
/// while one writer writes, and docs/archive.md.
public struct S3ArchiveStore: ArchiveStore {
    /// The bucket and the prefix (ending in `/` unless empty).
    public let root: S3Location
    /// The client, for this store's bucket.
    let client: S3Client
    /// Where the client's calls run between their suspensions (nil: the shared pool).
    let executor: (any TaskExecutor)?
    /// The id the index writers of this store put in the lease (nil: a new one for each
    /// writer). A collector's uploader keeps one for its whole run, so a lease one of its
    /// attempts left behind (its release failed: the store went away) is known as its own
    /// and taken back, rather than refusing the same collector until it expires.
    var leaseHolder: String?

    /// The store at `root`, reached through `client` (whose bucket must be root's), its
    /// calls running on `executor` (nil: Swift's shared pool).
    public init(root: S3Location, client: S3Client, executor: (any TaskExecutor)? = nil) {
        var prefix = root.prefix
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        // Adding a slash to a valid prefix keeps it valid unless it reaches S3's key limit,
        // where every object key would be refused anyway.
        self.root = (try? S3Location(bucket: root.bucket, prefix: prefix)) ?? root
        self.client = client
        self.executor = executor
    }

    /// The same store through a client of its own on `io`'s thread, for the uploader: its
    /// connections, and the hashing of what it sends, run at the upload priority.
    func onOwnThread(_ io: UploadEventLoop) throws(ArchiveError) -> S3ArchiveStore {
        do {
            let own = try S3Client(configuration: client.configuration, bucket: root.bucket, eventLoopGroup: io.group)
            var store = S3ArchiveStore(root: root, client: own, executor: io.executor)
            store.leaseHolder = leaseHolder
            return store
        } catch {
            throw archiveError(error, key: nil)
        }
    }

    /// The same store, its index writers holding the lease as `holder` (see ``leaseHolder``).
    func holdingLeases(as holder: String) -> S3ArchiveStore {
        var store = self
        store.leaseHolder = holder
        return store
    }

    /// Opens `s3://BUCKET/PREFIX` with the endpoint and credentials found the way S3
    /// tools find them (see ``S3Configuration/resolve(endpointArgument:environment:home:profile:)``).
    public static func open(_ location: String, endpoint: String?, environment: [String: String]) throws(ArchiveError) -> S3ArchiveStore {
        do {
            let root = try S3Location(parsing: location)
            let configuration = try S3Configuration.resolve(endpointArgument: endpoint, environment: environment)
            return S3ArchiveStore(root: root, client: try S3Client(configuration: configuration, bucket: root.bucket))
        } catch {
            let kind: ArchiveError.Kind = error.kind == .credentials ? .refused : .invalidRequest
            throw ArchiveError(kind, "cannot open the archive \(location): \(error)", object: location, underlying: error)
        }
    }

    public var location: String { root.description }
    public func describe(_ key: String) -> String { "s3://\(root.bucket)/\(root.key(key))" }
    /// The endpoint, for messages.
    public var endpoint: String { client.configuration.endpoint.description }

    /// Several reads in flight hide the round trips of object storage.
    public var parallelReads: Int { 4 }

    /// Every read is a download.
    public var readsAreDownloads: Bool { true }

    /// GETs this store's client sent and the bytes they received.
    public var statistics: S3ClientStatistics { client.statistics }

    public func size(of key: String) throws(ArchiveError) -> Int? {
        let full = root.key(key)
        return try call(key) { client throws(S3Error) in try await client.headObject(full)?.size }
    }

    public func read(_ key: String) throws(ArchiveError) -> [UInt8]? {
        let full = root.key(key)
        return try call(key) { client throws(S3Error) -> [UInt8]? in
            do throws(S3Error) {
                return Array(buffer: try await client.getObject(full))
            } catch {
                if error.kind == .noSuchKey { return nil }
                throw error
            }
        }
    }

    public func readBuffer(_ key: String) throws(ArchiveError) -> ByteBuffer? {
        let full = root.key(key)
        return try call(key) { client throws(S3Error) -> ByteBuffer? in
            do throws(S3Error) {
                return try await client.getObject(full)
            } catch {
                if error.kind == .noSuchKey { return nil }
                throw error
            }
        }
    }

    /// One streamed GET: each piece of the body is handed on as it arrives (the calling
    /// thread waits meanwhile, so `body` runs as if on it), never the object whole.
    public func readPieces(_ key: String, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) -> Int? {
        let full = root.key(key)
        let client = self.client
        let name = describe(key)
        let outcome = withoutActuallyEscaping(body) { body -> Result<Int?, ArchiveError> in
            let sink = PieceSink(body)
            // The task may outlive the wait by a moment: it must not hold `body` then.
            defer { sink.body = nil }
            return blocking { () async -> Result<Int?, ArchiveError> in
                do {
                    return .success(try await client.getObject(full) { piece in
                        try piece.withUnsafeReadableBytes { raw in try sink.body!(raw) }
                    })
                } catch let error as ArchiveError {
                    return .failure(error)
                } catch let error as S3Error {
                    if error.kind == .noSuchKey { return .success(nil) }
                    return .failure(archiveError(error, key: key))
                } catch {
                    return .failure(ArchiveError(.io, "\(name): \(error)", object: name))
                }
            }
        }
        return try outcome.get()
    }

    public func read(_ key: String, range: Range<Int>) throws(ArchiveError) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        let full = root.key(key)
        return try call(key) { client throws(S3Error) -> [UInt8] in
            do throws(S3Error) {
                return Array(buffer: try await client.getObject(full, range: range, allowingShorter: true))
            } catch {
                // The range starts at or past the object's end: nothing to read there.
                if error.kind == .invalidArgument && error.status == 416 { return [] }
                throw error
            }
        }
    }

    public func write(_ key: String, replacing: Bool,
                      _ body: (inout ArchiveObjectWriter) throws(ArchiveError) -> Void) throws(ArchiveError) -> ArchiveObjectInfo {
        let name = describe(key)
        let staging = try S3UploadStaging(for: name)
        defer { staging.discard() }
        // This hash (the second of three over every shipped byte: the spool's, this one, the
        // client's SigV4/MD5 digest) stays. It is what `writer.finish()` returns inside
        // `body`, which archive copy uses to refuse a damaged base before it reaches the
        // bucket; and comparing it below with the client's digest is the only check of the
        // staging for writes no record names (index segments, lease, descriptor). Its cost
        // is small: SHA-256 runs at about 1.7 GB/s here (SHA-NI), about 0.1% of a core at
        // the 1.6 MB/s s3-impact ships (docs/performance.md), of the collector's 6%.
        var writer = ArchiveObjectWriter { raw throws(ArchiveError) in try staging.append(raw) }
        try body(&writer)
        let info = writer.finish()
        let full = root.key(key)
        let staged = try staging.finish()
        do {
            let put = try blocking { [client] () async throws(S3Error) -> S3PutResult in
                switch staged {
                case .memory(let bytes): try await client.putObject(full, bytes, ifNoneMatch: !replacing)
                case .file(let path): try await client.putObject(full, contentsOfFile: path, ifNoneMatch: !replacing)
                }
            }
            // The client checked what the store received against the SHA-256 it signed.
            guard put.sha256 == info.sha256, put.size == info.size else {
                throw ArchiveError(.damaged, "\(name): the store took \(put.size) bytes (sha256 \(put.sha256.prefix(12))...), not the \(info.size) written (sha256 \(info.sha256.prefix(12))...)", object: name)
            }
        } catch let error as S3Error where error.kind == .preconditionFailed {
            throw ArchiveError(.invalidRequest, "\(name) exists already; an archive object is never overwritten", object: name, underlying: error)
        } catch let error as S3Error {
            throw archiveError(error, key: key)
        } catch let error as ArchiveError {
            throw error
        } catch {
            throw ArchiveError(.io, "\(name): \(error)", object: name)
        }
        return info
    }

    public func list(prefix: String) throws(ArchiveError) -> [String] {
        let full = root.key(prefix)
        let strip = root.prefix.count
        return try call(nil) { client throws(S3Error) in
            try await client.listAllObjects(prefix: full).map { String($0.key.dropFirst(strip)) }
        }
    }

    public func delete(_ keys: [String]) throws(ArchiveError) {
        guard !keys.isEmpty else { return }
        let full = keys.map(root.key)
        try call(keys.count == 1 ? keys[0] : nil) { client throws(S3Error) in try await client.deleteObjects(full) }
    }

    public func readIndex() throws(ArchiveError) -> ArchiveIndexData? {
        try S3IndexReader(store: self).read()
    }

    public func openIndexWriter(creating descriptor: ArchiveDescriptor?) throws(ArchiveError) -> any ArchiveIndexWriting {
        try S3IndexWriter(store: self, creating: descriptor)
    }
}

/// Carries a caller's piece handler into the task that reads the body. The caller's
/// thread is blocked until that task is done with it, so the handler never runs
/// concurrently with it, nor after it returned (it is cleared then).
private final class PieceSink: @unchecked Sendable {
    var body: ((UnsafeRawBufferPointer) throws(ArchiveError) -> Void)?
    init(_ body: @escaping (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) { self.body = body }
}
