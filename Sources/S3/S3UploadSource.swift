import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the bytes of an upload come from: a buffer in memory, or a file read part by
/// part (so a large base is never held whole).
enum S3UploadSource: Sendable {
    case buffer(ByteBuffer)
    /// An open file (`descriptor`, closed by whoever opened it) of `size` bytes.
    case file(path: String, descriptor: Int32, size: Int)

    var size: Int {
        switch self {
        case .buffer(let buffer): return buffer.readableBytes
        case .file(_, _, let size): return size
        }
    }

    /// The bytes `offset..<offset+length`: a slice of the buffer (no copy), or a read of
    /// the file on NIO's blocking-I/O thread pool.
    func read(offset: Int, length: Int) async throws -> ByteBuffer {
        switch self {
        case .buffer(let buffer):
            return buffer.getSlice(at: buffer.readerIndex + offset, length: length)!
        case .file(let path, let descriptor, _):
            return try await NIOThreadPool.singleton.runIfActive {
                var part = ByteBufferAllocator().buffer(capacity: length)
                var done = 0
                while done < length {
                    let count = part.writeWithUnsafeMutableBytes(minimumWritableBytes: length - done) { free in
                        pread(descriptor, free.baseAddress, length - done, off_t(offset + done))
                    }
                    if count < 0 {
                        if errno == EINTR { continue }
                        throw S3FileProblem("cannot read \(path) at byte \(offset + done): \(String(cString: strerror(errno)))")
                    }
                    if count == 0 { throw S3FileProblem("\(path) ended at byte \(offset + done), before the \(offset + length) it had") }
                    done += count
                }
                return part
            }
        }
    }
}

/// A local file that could not be read or written, in words.
struct S3FileProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
