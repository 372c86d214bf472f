import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a durable write failed: the file, the step and the system's reason
/// (`cannot write /backups/.m.rdb.tmp-1a2b: No space left on device`).
public struct DurableFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole message.
    public var message: String
    /// The errno behind it, when there is one (ENOSPC for a full disk).
    public var code: Int32?

    /// Creates an error.
    public init(_ message: String, code: Int32? = nil) {
        self.message = message
        self.code = code
    }

    public var description: String { message }

    static func system(_ what: String, _ path: String, _ code: Int32 = errno) -> DurableFileError {
        DurableFileError("cannot \(what) \(path): \(String(cString: strerror(code)))", code: code)
    }
}

/// A file written so that it is either there whole or not there at all: the bytes go to a
/// temporary name in the same folder, are fsync'd, renamed over the final name, and the
/// folder is fsync'd so the rename itself survives a crash.
///
/// ```swift
/// let file = try DurableFile(path: "/backups/m.rdb")
/// try file.write(bytes)          // as many times as needed
/// let digest = try file.commit() // SHA-256 of everything written
/// ```
/// A file that is dropped without ``commit()`` (or after an error) removes its temporary
/// name, so a failure (a full disk, a timeout) leaves nothing half-written behind.
/// Not thread-safe: one writer per file.
public final class DurableFile {
    /// The final path.
    public let path: String
    /// The temporary path the bytes go to until ``commit()``.
    public let temporaryPath: String
    private var descriptor: Int32
    private var hasher = SHA256()
    private var done = false
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    /// Starts writing `path`. Refuses to replace an existing file unless `replace`.
    public init(path: String, replace: Bool = false) throws(DurableFileError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        if !replace, FileManager.default.fileExists(atPath: path) {
            throw DurableFileError("cannot write \(path): it exists already (redkeep never overwrites)", code: EEXIST)
        }
        var template = Array("\(folder)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .system("create a temporary file in", folder) }
        self.descriptor = fd
        self.temporaryPath = String(cString: template)
    }

    deinit { if !done { discard() } }

    /// Appends bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(DurableFileError) {
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                discard()
                throw .system("write", temporaryPath, code)
            }
            offset += n
        }
        hasher.update(bufferPointer: bytes)
        bytesWritten += bytes.count
    }

    /// Appends bytes.
    public func write(_ bytes: some ContiguousBytes) throws(DurableFileError) {
        let failure: DurableFileError? = bytes.withUnsafeBytes { raw -> DurableFileError? in
            do throws(DurableFileError) { try write(raw); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Flushes the file to disk, renames it to its final name and flushes the folder.
    /// Returns the SHA-256 of everything written. On failure the temporary file is removed.
    @discardableResult
    public func commit() throws(DurableFileError) -> SHA256.Digest {
        guard !done else { throw DurableFileError("\(path) was already committed or discarded") }
        if fsync(descriptor) != 0 {
            let code = errno
            discard()
            throw .system("flush (fsync)", temporaryPath, code)
        }
        close(descriptor)
        descriptor = -1
        if rename(temporaryPath, path) != 0 {
            let code = errno
            discard()
            throw .system("rename \(temporaryPath) to", path, code)
        }
        done = true
        do {
            try Self.syncFolder(of: path)
        } catch {
            // Not known to be on disk: take it away rather than leave a file that may vanish.
            unlink(path)
            throw error
        }
        return hasher.finalize()
    }

    /// Gives up: closes and removes the temporary file.
    public func discard() {
        guard !done else { return }
        done = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
    }

    /// Writes `bytes` to `path` durably in one call; returns their SHA-256.
    @discardableResult
    public static func write(_ bytes: some ContiguousBytes, to path: String, replace: Bool = false) throws(DurableFileError) -> SHA256.Digest {
        let file = try DurableFile(path: path, replace: replace)
        try file.write(bytes)
        return try file.commit()
    }

    /// fsyncs the folder holding `path`, so a rename or a new name in it is on disk.
    public static func syncFolder(of path: String) throws(DurableFileError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open the folder", folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system("flush (fsync) the folder", folder) }
    }

    /// The SHA-256 of the file at `path`, read in blocks (memory does not grow with it).
    public static func sha256(of path: String) throws(DurableFileError) -> SHA256.Digest {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", path) }
        defer { close(fd) }
        var hasher = SHA256()
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { block.deallocate() }
        while true {
            let n = read(fd, block.baseAddress, block.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system("read", path)
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: block[0..<n]))
        }
        return hasher.finalize()
    }
}

/// write(2), named apart from ``DurableFile/write(_:)-(UnsafeRawBufferPointer)``.
func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

extension SHA256.Digest {
    /// The digest as 64 lower-case hex digits, as sha256sum prints it.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}
