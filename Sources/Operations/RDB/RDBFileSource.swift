#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RDB

/// An RDB file read with pread, for ``RDB/RDBReader``: the reader asks for blocks in
/// order, so a base of many GB is read with memory bounded by its largest value.
/// The descriptor closes when the source is released.
public final class RDBFileSource: RDBByteSource {
    /// The file's path, for messages.
    public let path: String
    /// Its size when opened (bytes appended later are not read).
    public let count: Int
    let descriptor: Int32

    /// Opens `path` for reading. Throws ``RDB/RDBError`` (kind `.io`, offset 0) naming the
    /// file and the reason.
    public init(path: String) throws(RDBError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RDBError(.io, at: 0, "cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw RDBError(.io, at: 0, "cannot stat \(path): \(reason)")
        }
        self.path = path
        self.descriptor = fd
        self.count = Int(st.st_size)
    }

    deinit { close(descriptor) }

    /// One pread, retried on EINTR.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int {
        let want = min(buffer.count, max(count - offset, 0))
        guard want > 0 else { return 0 }
        while true {
            let n = pread(descriptor, buffer.baseAddress, want, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw RDBError(.io, at: offset, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// `rdb check FILE`: the report of ``RDB/RDBCheck`` for a file, its path attached.
public enum RDBFileCheck {
    /// Checks the RDB in the file at `path` (a dump.rdb, or an AOF base that is an RDB).
    /// A file that cannot be opened is a report whose problem says so.
    public static func check(path: String, limits: RDBReader.Limits = .init()) -> RDBCheckReport {
        do {
            let source = try RDBFileSource(path: path)
            return RDBCheck.check(source, limits: limits)
        } catch {
            var report = RDBCheckReport()
            report.problem = error
            return report
        }
    }
}
