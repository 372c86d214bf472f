import AOF
import Foundation
import NIOCore
import RDB
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private local file holding archive objects a restore downloaded and checked, so
/// the write reads them from disk instead of downloading them again, and a chunk of any
/// size is read back in bounded pieces instead of being held whole.
///
/// The file is created 0600 and unlinked at once: nothing can open it by name, and the
/// system frees it on every exit path (the last descriptor closing, a crash and kill -9
/// included). Its bytes are written as they are hashed and used only after their
/// object's size and sha256 matched, so they are not hashed again on the way back:
/// reachable only through this process's descriptor, they are as trustworthy as the
/// bytes a restore keeps in memory (which are not hashed twice either).
///
/// Space is reserved up front (``reserve(_:)``), bounded by the file system's free space
/// less ``freeSpaceKept``, so a restore never fills the disk; each region is given back
/// (its blocks freed) once the write has read it. Thread-safe.
final class RestoreSpool: @unchecked Sendable {
    // @unchecked: `end` and `inUse` are used under `lock`; the rest is immutable.
    /// The open (unlinked) file.
    let descriptor: Int32
    /// Where it was made, for messages.
    let folder: String
    private let lock = NSLock()
    /// Where the next region starts: the file's logical size once every region is written.
    private var end = 0
    /// Bytes of the regions reserved and not released: what the file holds on disk.
    private var inUse = 0
    /// How much the file system may hold of ours at most (its free space when the spool
    /// was made, less ``freeSpaceKept``).
    let capacity: Int

    /// Free space left to everything else on the spool's file system.
    static let freeSpaceKept = 256 << 20

    /// The folder a spool goes to when none is given: `$TMPDIR`, else `/tmp`.
    static var defaultFolder: String {
        var folder = NSTemporaryDirectory()
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        return folder.isEmpty ? "/tmp" : folder
    }

    /// Makes an empty spool in `folder` (``defaultFolder`` when nil), holding at most
    /// `capacity` bytes when given (else what the file system has room for). Throws when
    /// the file cannot be made; callers then read again from the store instead.
    init(in folder: String? = nil, capacity limit: Int? = nil) throws(ArchiveError) {
        let folder = folder ?? Self.defaultFolder
        var template = Array((folder + "/redkeep-restore-spool-XXXXXX").utf8CString)
        // mkstemp makes the file 0600, O_EXCL.
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ArchiveError(.io, "cannot make a restore spool file in \(folder): \(String(cString: strerror(errno)))", object: folder)
        }
        // Unlinked at once: nothing else can open it, and nothing is left behind.
        let path = String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
        unlink(path)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        descriptor = fd
        self.folder = folder
        var fs = statvfs()
        if fstatvfs(fd, &fs) == 0 {
            let free = Int(clamping: UInt64(fs.f_bavail) &* UInt64(fs.f_frsize))
            capacity = min(limit ?? .max, max(0, free - Self.freeSpaceKept))
        } else {
            capacity = 0
        }
    }

    deinit { close(descriptor) }

    /// Reserves `length` bytes and returns where they start in the file; nil when the
    /// file system has no room for them.
    func reserve(_ length: Int) -> Int? {
        lock.withLock {
            guard length >= 0, inUse + length <= capacity else { return nil }
            defer { end += length; inUse += length }
            return end
        }
    }

    /// Bytes of the regions reserved and not released.
    var bytesReserved: Int { lock.withLock { inUse } }

    /// Writes `raw` at `offset` (inside a region ``reserve(_:)`` returned).
    func write(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(ArchiveError) {
        var done = 0
        while done < raw.count {
            let n = pwrite(descriptor, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ArchiveError(.io, "cannot write the restore spool file in \(folder) at byte \(offset + done): \(String(cString: strerror(n < 0 ? errno : EIO)))",
                                   object: folder)
            }
            done += n
        }
    }

    /// Frees the disk blocks of a region the write is done with, and its room for other
    /// regions (best effort: where the file system cannot punch holes, the blocks go with
    /// the file, and their room stays taken).
    fileprivate func release(offset: Int, length: Int) {
        guard length > 0 else { return }
        if let punch = Self.punchHole, punch(descriptor, 0x02 | 0x01, offset, length) == 0 {
            lock.withLock { inUse -= length }
        }
    }

    /// Linux's `fallocate`, which Glibc's module map leaves out (it needs _GNU_SOURCE),
    /// called with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE to free a region's blocks.
    /// Nil where there is none.
    private static let punchHole: (@convention(c) (Int32, Int32, Int, Int) -> Int32)? = {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, Int, Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// Blocks the file holds on disk now, in bytes (for tests: released regions free theirs).
    var bytesOnDisk: Int {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return 0 }
        return Int(st.st_blocks) * 512
    }
}

/// Checked bytes of one object in a ``RestoreSpool``: a region of its file.
final class SpooledBytes: Sendable {
    /// The spool holding them (kept open while this is alive).
    let spool: RestoreSpool
    /// Where they start in the spool's file.
    let offset: Int
    /// How many.
    let length: Int
    private let released = Atomic<Bool>(false)

    init(spool: RestoreSpool, offset: Int, length: Int) {
        self.spool = spool
        self.offset = offset
        self.length = length
    }

    deinit { release() }

    /// Frees their disk blocks once they were read for the last time (later calls do
    /// nothing).
    func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        spool.release(offset: offset, length: length)
    }
}

extension SpooledBytes {
    /// How much of a spooled object is read at once: memory stays at about a block
    /// (plus the largest command) whatever the object's size.
    static let blockSize = 1 << 20

    /// Reads AOF entries (a chunk's, or an AOF base's) back from the spool a block at a
    /// time; their offsets count from the start of the spool file (less ``offset`` for the
    /// object's own). `name` names the object.
    func aofReader(name: String) -> AOFFileReader {
        AOFFileReader(descriptor: spool.descriptor, name: "\(name) (checked copy in the restore spool, from byte \(offset))",
                      from: offset, to: offset + length, blockSize: Self.blockSize)
    }
}

/// An RDB base's checked bytes in the spool, read by ``RDB/RDBReader`` (which asks for its
/// blocks in order) straight from the file.
struct SpooledRDBSource: RDBByteSource {
    let bytes: SpooledBytes
    /// How messages name the base.
    let name: String

    var count: Int { bytes.length }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(RDBError) -> Int {
        guard offset >= 0, offset < count, buffer.count > 0 else { return 0 }
        let want = min(buffer.count, count - offset)
        while true {
            let n = pread(bytes.spool.descriptor, buffer.baseAddress!, want, off_t(bytes.offset + offset))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw RDBError(.io, at: offset, "cannot read the checked copy of \(name) in the restore spool in \(bytes.spool.folder) at byte \(bytes.offset + offset): \(n < 0 ? String(cString: strerror(errno)) : "it ends early")")
            }
            return n
        }
    }
}

/// An object's checked bytes as a restore hands them on: in memory when small enough,
/// else in a private spool file, read back in bounded pieces.
enum CheckedBytes: Sendable {
    case memory(ByteBuffer)
    case spooled(SpooledBytes)
}
