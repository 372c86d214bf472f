import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// An archive in a local folder, safe to copy with rsync:
///
/// ```
/// ARCHIVE/                                 0700: the archive holds the whole data set
///   archive.json                           ArchiveDescriptor; its flock is the writer's lock
///   index.jsonl                            ArchiveRecord lines, appended and fsync'd
///   gen-000001/base.rdb                    objects, 0600, written to a temporary name,
///   stream-000001/000000000000.chunk       fsync'd and renamed
/// ```
public struct LocalArchiveStore: ArchiveStore {
    /// The folder.
    public let root: String
    /// Permission bits of folders and files the store creates.
    static let folderMode: mode_t = 0o700
    static let fileMode: mode_t = 0o600

    /// The archive in folder `root` (which need not exist yet).
    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
    }

    public var location: String { root }
    public func describe(_ key: String) -> String { root + "/" + key }

    var descriptorPath: String { describe(ArchiveLayout.descriptorKey) }
    var indexPath: String { describe(ArchiveLayout.indexKey) }

    public func size(of key: String) throws(ArchiveError) -> Int? {
        var st = stat()
        guard stat(describe(key), &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.ioError("cannot look at", describe(key))
        }
        return Int(st.st_size)
    }

    public func read(_ key: String) throws(ArchiveError) -> [UInt8]? {
        try withWholeFile(key) { fd, size, path throws(ArchiveError) in try Self.read(fd, path: path, range: 0..<size, exact: false) }
    }

    /// Reads the file straight into the buffer (no array in between).
    public func readBuffer(_ key: String) throws(ArchiveError) -> ByteBuffer? {
        try withWholeFile(key) { fd, size, path throws(ArchiveError) in
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            var failure: Int32 = 0
            var got = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
                while got < size {
                    let n = pread(fd, raw.baseAddress! + got, size - got, off_t(got))
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { failure = errno; break }
                    if n == 0 { break }
                    got += n
                }
                return got
            }
            if failure != 0 { throw ArchiveError(.io, "cannot read \(path) at byte \(got): \(String(cString: strerror(failure)))", object: path) }
            return buffer
        }
    }

    /// Reads the file a block at a time into one reused buffer: memory stays at a block
    /// whatever the object's size.
    public func readPieces(_ key: String, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) -> Int? {
        try withWholeFile(key) { fd, _, path throws(ArchiveError) -> Int in
            let block = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 16)
            defer { block.deallocate() }
            var position = 0
            while true {
                let n = pread(fd, block.baseAddress!, block.count, off_t(position))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw ArchiveError(.io, "cannot read \(path) at byte \(position): \(String(cString: strerror(errno)))", object: path) }
                if n == 0 { return position }
                try body(UnsafeRawBufferPointer(rebasing: block[0..<n]))
                position += n
            }
        }
    }

    /// The piece ``readPieces(_:_:)`` reads at a time.
    static let pieceSize = 1 << 20

    /// Opens the object and calls `body` with its descriptor, size and path; nil when
    /// there is no such object.
    private func withWholeFile<T>(_ key: String, _ body: (Int32, Int, String) throws(ArchiveError) -> T) throws(ArchiveError) -> T? {
        let path = describe(key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.ioError("cannot open", path)
        }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        return try body(fd, Int(st.st_size), path)
    }

    public func read(_ key: String, range: Range<Int>) throws(ArchiveError) -> [UInt8] {
        let path = describe(key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw ArchiveError(.missing, "\(path) is missing", object: path) }
            throw Self.ioError("cannot open", path)
        }
        defer { close(fd) }
        return try Self.read(fd, path: path, range: range, exact: false)
    }

    /// Reads `range` through `fd`; stops early at the end of the file.
    static func read(_ fd: Int32, path: String, range: Range<Int>, exact: Bool) throws(ArchiveError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var got = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            while got < range.count {
                let n = pread(fd, raw.baseAddress! + got, range.count - got, off_t(range.lowerBound + got))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno; return }
                if n == 0 { return }
                got += n
            }
        }
        if failure != 0 { throw ArchiveError(.io, "cannot read \(path) at byte \(range.lowerBound + got): \(String(cString: strerror(failure)))", object: path) }
        if got < bytes.count { bytes.removeLast(bytes.count - got) }
        return bytes
    }

    public func write(_ key: String, replacing: Bool,
                      _ body: (inout ArchiveObjectWriter) throws(ArchiveError) -> Void) throws(ArchiveError) -> ArchiveObjectInfo {
        let path = describe(key)
        try makeFolders(for: key)
        if !replacing, try size(of: key) != nil {
            throw ArchiveError(.invalidRequest, "\(path) exists already; an archive object is never overwritten", object: path)
        }
        var info = ArchiveObjectInfo(size: 0, sha256: "")
        var bodyFailure: ArchiveError?
        do {
            // DurableFile hashes nothing here: the object writer does, once.
            try DurableFile.writeUnhashed(to: path, mode: Self.fileMode) { sink throws(DurableFile.WriteError) in
                // The object writer's sink outlives this call's `inout`: it works on a box,
                // copied back when the body is done.
                let box = SinkBox(sink)
                defer { sink = box.sink }
                var sinkFailure: DurableFile.WriteError?
                var writer = ArchiveObjectWriter { raw throws(ArchiveError) in
                    do throws(DurableFile.WriteError) { try box.sink.append(raw: raw) } catch {
                        sinkFailure = error
                        throw ArchiveError(.io, "\(error)", object: path, underlying: error)
                    }
                }
                do throws(ArchiveError) { try body(&writer) } catch {
                    if let sinkFailure { throw sinkFailure }
                    bodyFailure = error
                    throw DurableFile.WriteError(path: path, reason: "not written: \(error)")
                }
                info = writer.finish()
            }
        } catch {
            if let bodyFailure { throw bodyFailure }
            throw ArchiveError(.io, "\(error)", object: path, underlying: error)
        }
        return info
    }

    public func list(prefix: String) throws(ArchiveError) -> [String] {
        var keys: [String] = []
        let fm = FileManager.default
        guard let names = try? fm.subpathsOfDirectory(atPath: root) else { return [] }
        for name in names where name.hasPrefix(prefix) {
            let last = (name as NSString).lastPathComponent
            if last.hasPrefix(".tmp-") { continue }
            var isFolder: ObjCBool = false
            if fm.fileExists(atPath: describe(name), isDirectory: &isFolder), !isFolder.boolValue { keys.append(name) }
        }
        return keys
    }

    public func delete(_ keys: [String]) throws(ArchiveError) {
        var folders = Set<String>()
        for key in keys {
            let path = describe(key)
            if unlink(path) != 0 && errno != ENOENT { throw Self.ioError("cannot delete", path) }
            let folder = (key as NSString).deletingLastPathComponent
            if !folder.isEmpty { folders.insert(folder) }
        }
        // Folders left empty go too (a base's gen-N folder, a stream's folder).
        for folder in folders { rmdir(describe(folder)) }
        DurableFile.syncFolder(root)
    }

    public func readIndex() throws(ArchiveError) -> ArchiveIndexData? {
        guard let descriptor = try read(ArchiveLayout.descriptorKey) else { return nil }
        let data = try read(ArchiveLayout.indexKey) ?? []
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var torn = false
        if let last = lines.last {
            // No newline after the last line: the writer appends it in the same write, so
            // this is an append cut short (also when it looks like a complete record).
            if !last.isEmpty { torn = true }
            lines.removeLast()
        }
        return ArchiveIndexData(descriptor: descriptor, lines: lines.map { $0 }, tornTail: torn, name: indexPath)
    }

    public func openIndexWriter(creating descriptor: ArchiveDescriptor?) throws(ArchiveError) -> any ArchiveIndexWriting {
        try LocalIndexWriter(store: self, creating: descriptor)
    }

    /// Creates the folders above `key`, 0700.
    func makeFolders(for key: String) throws(ArchiveError) {
        let folder = (describe(key) as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(Self.folderMode)])
        } catch {
            throw ArchiveError(.io, "cannot create the folder \(folder): \(error.localizedDescription)", object: folder)
        }
        DurableFile.syncFolder((folder as NSString).deletingLastPathComponent)
    }

    static func ioError(_ what: String, _ path: String) -> ArchiveError {
        ArchiveError(.io, "\(what) \(path): \(String(cString: strerror(errno)))", object: path)
    }
}

/// A file sink that a closure can append to after the `inout` it came from is gone.
private final class SinkBox {
    var sink: DurableFile.Sink
    init(_ sink: DurableFile.Sink) { self.sink = sink }
}
