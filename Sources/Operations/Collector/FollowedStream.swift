#if canImport(Glibc)
import Glibc
#endif

/// A file's name with its inode: tells apart two files of the same name (Redis restarts
/// its sequence numbers when the AOF folder is recreated).
struct FileIdentity: Hashable, Sendable {
    var name: String
    var inode: UInt64
}

/// An incr file the collector follows. Its descriptor stays open until the stream ends,
/// so the file's tail stays readable after Redis deletes it (Linux keeps a deleted file
/// alive while a descriptor holds it).
final class FollowedStream {
    let number: Int
    let sourceFile: String
    let path: String
    let descriptor: Int32
    let inode: UInt64
    /// Bytes archived contiguously from offset 0.
    var copied: Int
    /// The size at the last sample.
    var size = 0
    /// The size last recorded as a `sample`.
    var sampledSize: Int?
    /// The size seen at the previous pass while a newer file existed: the same size on two
    /// passes in a row says Redis has moved on and will not append here again.
    var sizeWithSuccessor: Int?
    var stable = false
    /// Set when only part of a command is left after `copied` (it may still be completed).
    var partialTail = false
    /// Why the stream cannot be copied further (bytes that are not AOF commands).
    var stalled: String?
    /// When the last chunk was copied (or the stream opened), for gap records.
    var lastProgress: Double

    init(number: Int, sourceFile: String, path: String, descriptor: Int32, inode: UInt64, copied: Int, lastProgress: Double) {
        self.number = number
        self.sourceFile = sourceFile
        self.path = path
        self.descriptor = descriptor
        self.inode = inode
        self.copied = copied
        self.lastProgress = lastProgress
    }

    deinit { close(descriptor) }

    var identity: FileIdentity { FileIdentity(name: sourceFile, inode: inode) }
}
