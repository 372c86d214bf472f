import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing files that must survive a crash whole or not at all: the bytes go to a
/// temporary name in the same folder, are fsync'd, renamed over the final name, and the
/// folder is fsync'd so the rename itself is durable. A crash leaves at most an orphan
/// `.tmp-*` file, never a half-written final file.
public enum DurableFile {
    /// A failed write: what, where, why. Nothing is left under the final name.
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        /// The final path that was being written.
        public let path: String
        /// Why it failed (strerror text: "No space left on device").
        public let reason: String
        /// `cannot write PATH: reason`.
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `bytes` to `path` durably and returns their SHA-256 (lower-case hex).
    @discardableResult
    public static func write<Bytes: Collection>(_ bytes: Bytes, to path: String, mode: mode_t = 0o644) throws(WriteError) -> String where Bytes.Element == UInt8 {
        try write(to: path, mode: mode) { sink throws(WriteError) in try sink.append(bytes) }
    }

    /// Streams a file into `path` durably: `body` appends through the sink (several
    /// times, for large copies); returns the SHA-256 of everything appended.
    @discardableResult
    /// `mode` is the new file's permission bits (archives use 0600: they hold the whole
    /// data set, and Redis protects nothing in them).
    public static func write(to path: String, mode: mode_t = 0o644, _ body: (inout Sink) throws(WriteError) -> Void) throws(WriteError) -> String {
        try write(to: path, hashing: true, mode: mode, body)
    }

    /// ``write(to:_:)`` for callers that need no SHA-256 of what they wrote: hashing a
    /// large file costs about as much as writing it (`replay-until --write-aof`).
    public static func writeUnhashed(to path: String, mode: mode_t = 0o644, _ body: (inout Sink) throws(WriteError) -> Void) throws(WriteError) {
        _ = try write(to: path, hashing: false, mode: mode, body)
    }

    private static func write(to path: String, hashing: Bool, mode: mode_t, _ body: (inout Sink) throws(WriteError) -> Void) throws(WriteError) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        let temporary = (folder.isEmpty ? "." : folder) + "/.tmp-" + (path as NSString).lastPathComponent + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        var sink = Sink(descriptor: fd, path: path, hashing: hashing)
        do throws(WriteError) {
            try body(&sink)
            guard fsync(fd) == 0 else { throw WriteError(path: path, reason: "fsync: " + String(cString: strerror(errno))) }
            guard close(fd) == 0 else {
                sink.closed = true
                throw WriteError(path: path, reason: "close: " + String(cString: strerror(errno)))
            }
            sink.closed = true
            guard rename(temporary, path) == 0 else { throw WriteError(path: path, reason: "rename: " + String(cString: strerror(errno))) }
        } catch {
            if !sink.closed { close(fd) }
            unlink(temporary)
            throw error
        }
        syncFolder(folder.isEmpty ? "." : folder)
        return sink.digest()
    }

    /// fsyncs a folder, so renames and new names in it survive a crash.
    public static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// SHA-256 of a file's bytes `range` (all of it by default), lower-case hex.
    public static func sha256(ofFile path: String, range: Range<Int>? = nil) throws(WriteError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var hasher = SHA256Hasher()
        var position = range?.lowerBound ?? 0
        let end = range?.upperBound ?? Int.max
        var block = [UInt8](repeating: 0, count: 1 << 20)
        while position < end {
            let want = min(block.count, end - position)
            let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(position)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            block.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            position += got
        }
        return hasher.finish()
    }

    /// Lower-case hex of a digest.
    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 { SHA256Hasher.hex(digest) }

    /// Where ``write(to:_:)``'s body appends.
    public struct Sink {
        let descriptor: Int32
        let path: String
        /// Nil when the caller needs no digest.
        var hasher: SHA256Hasher?
        var closed = false
        /// Bytes appended so far.
        public private(set) var count = 0

        init(descriptor: Int32, path: String, hashing: Bool) {
            self.descriptor = descriptor
            self.path = path
            self.hasher = hashing ? SHA256Hasher() : nil
        }

        /// Appends bytes, retrying short writes; ENOSPC and the like throw.
        public mutating func append<Bytes: Collection>(_ bytes: Bytes) throws(WriteError) where Bytes.Element == UInt8 {
            let array = Array(bytes)
            var failure: Int32 = 0
            let descriptor = self.descriptor
            guard array.withUnsafeBytes({ Self.writeAll(descriptor, $0, &failure) }) else {
                throw WriteError(path: path, reason: String(cString: strerror(failure)))
            }
            if hasher != nil { array.withUnsafeBytes { hasher!.update($0) } }
            count += array.count
        }

        /// Appends raw bytes (no copy).
        public mutating func append(raw: UnsafeRawBufferPointer) throws(WriteError) {
            var failure: Int32 = 0
            guard Self.writeAll(descriptor, raw, &failure) else { throw WriteError(path: path, reason: String(cString: strerror(failure))) }
            if hasher != nil { hasher!.update(raw) }
            count += raw.count
        }

        static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, _ failure: inout Int32) -> Bool {
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return false
                }
                done += n
            }
            return true
        }

        /// The SHA-256 of what was appended; "" when not hashing.
        func digest() -> String { hasher?.finish() ?? "" }
    }
}
