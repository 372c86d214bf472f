import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Holds an object's bytes while a writer produces them, before one upload sends them
/// whole: in memory while small, in a private temporary file once larger than
/// ``memoryLimit`` (a base of gigabytes never sits in memory). The file is removed by
/// ``discard()``.
final class S3UploadStaging: @unchecked Sendable {
    // @unchecked: used by the one thread writing the object.
    /// The staged bytes, ready to upload.
    enum Staged: Sendable {
        case memory(ByteBuffer)
        case file(String)
    }

    /// Objects up to this size are held in memory (the client's multipart threshold).
    static let memoryLimit = 16 << 20
    private let name: String
    private var buffer = ByteBufferAllocator().buffer(capacity: 0)
    private var path: String?
    private var descriptor: Int32 = -1

    /// Staging for the object `name` (used in messages).
    init(for name: String) throws(ArchiveError) { self.name = name }

    /// Adds bytes.
    func append(_ raw: UnsafeRawBufferPointer) throws(ArchiveError) {
        if descriptor < 0 && buffer.readableBytes + raw.count <= Self.memoryLimit {
            buffer.writeBytes(raw)
            return
        }
        if descriptor < 0 { try spill() }
        var failure: Int32 = 0
        guard DurableFile.Sink.writeAll(descriptor, raw, &failure) else {
            throw ArchiveError(.io, "cannot stage \(name) for upload in \(path ?? "a temporary file"): \(String(cString: strerror(failure)))", object: name)
        }
    }

    /// The bytes to upload.
    func finish() throws(ArchiveError) -> Staged {
        guard let path else { return .memory(buffer) }
        return .file(path)
    }

    /// Removes the temporary file, if any.
    func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        if let path { unlink(path) }
    }

    deinit { discard() }

    /// Moves what is in memory to a new temporary file (0600) and writes there from now on.
    private func spill() throws(ArchiveError) {
        let candidate = NSTemporaryDirectory() + "/redkeep-upload-\(UUID().uuidString)"
        let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ArchiveError(.io, "cannot stage \(name) for upload: cannot create \(candidate): \(String(cString: strerror(errno)))", object: name)
        }
        descriptor = fd
        path = candidate
        let held = buffer
        buffer = ByteBufferAllocator().buffer(capacity: 0)
        var failure: Int32 = 0
        let ok = held.withUnsafeReadableBytes { DurableFile.Sink.writeAll(fd, $0, &failure) }
        guard ok else {
            throw ArchiveError(.io, "cannot stage \(name) for upload in \(candidate): \(String(cString: strerror(failure)))", object: name)
        }
    }
}
