import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the entries of an append-only file (or a byte range of it) from disk, in order,
/// with memory bounded by the block size and the largest single command: the file is
/// read a block at a time and entries are slices of the block they came from.
///
/// A reader can follow a file through a descriptor it does not own, so a collector that
/// keeps an incr file open can still read it after Redis deleted it.
public final class AOFFileReader {
    /// The file's name in error messages.
    public let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let blockSize: Int
    private let end: Int?
    /// Where blocks come from instead of the descriptor (see ``init(name:to:blockSize:reading:)``).
    private let source: ((UnsafeMutableRawBufferPointer, Int) throws(AOFError) -> Int)?
    /// The mutable state, behind a pointer: `next()` runs once per command, and stored
    /// properties of a class passed `inout` cost two dynamic exclusivity checks per call
    /// (about a tenth of the scan time); the pointer has none. Only this class touches it.
    private let state: UnsafeMutablePointer<State>

    private struct State {
        var buffer: ByteBuffer
        var scanner: AOFScanner
        var readPosition: Int
        var exhausted = false
    }

    /// Opens `path` and reads from byte `start` up to `end` (exclusive; nil: to the end of
    /// the file as it is when reading gets there).
    public convenience init(path: String, from start: Int = 0, to end: Int? = nil, blockSize: Int = 1 << 20) throws(AOFError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AOFError(.io, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        self.init(descriptor: fd, name: path, from: start, to: end, blockSize: blockSize, owns: true)
    }

    /// Reads through an open descriptor, which stays open (the caller owns it).
    public convenience init(descriptor: Int32, name: String, from start: Int = 0, to end: Int? = nil, blockSize: Int = 1 << 20) {
        self.init(descriptor: descriptor, name: name, from: start, to: end, blockSize: blockSize, owns: false)
    }

    /// Reads `count` bytes through `reading`, which copies up to a buffer's size of them
    /// from the offset given into it and returns how many (0 only at the end): bytes
    /// coming from somewhere else than a file (an object store read in ranges), read a
    /// block at a time like a file's.
    public convenience init(name: String, to count: Int, blockSize: Int = 1 << 20,
                            reading: @escaping (UnsafeMutableRawBufferPointer, Int) throws(AOFError) -> Int) {
        self.init(descriptor: -1, name: name, from: 0, to: count, blockSize: blockSize, owns: false, source: reading)
    }

    /// Reads entries from bytes already in memory (a chunk fetched from an archive store);
    /// offsets count from the first byte.
    public convenience init(bytes: ByteBuffer, name: String) {
        self.init(descriptor: -1, name: name, from: 0, to: 0, blockSize: 4096, owns: false)
        state.pointee.buffer = bytes
        state.pointee.exhausted = true
    }

    private init(descriptor: Int32, name: String, from start: Int, to end: Int?, blockSize: Int, owns: Bool,
                 source: ((UnsafeMutableRawBufferPointer, Int) throws(AOFError) -> Int)? = nil) {
        self.descriptor = descriptor
        self.source = source
        self.ownsDescriptor = owns
        self.name = name
        self.blockSize = max(blockSize, 4096)
        self.end = end
        self.state = .allocate(capacity: 1)
        state.initialize(to: State(buffer: ByteBuffer(), scanner: AOFScanner(startOffset: start), readPosition: start))
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The offset just after the last entry returned: where the next one starts.
    public var offset: Int { state.pointee.scanner.offset }

    /// After ``next()`` returned nil: the bytes at the end of the range that do not make a
    /// whole entry (0 when the range ends on an entry boundary).
    public var pendingBytes: Int { state.pointee.buffer.readableBytes }

    /// The next entry, or nil at the end of the range. Throws for malformed bytes (with the
    /// file and offset) and read errors.
    public func next() throws(AOFError) -> AOFEntry? {
        while true {
            do {
                if let entry = try state.pointee.scanner.next(&state.pointee.buffer) { return entry }
            } catch {
                throw error.inFile(name)
            }
            if state.pointee.exhausted { return nil }
            try fill()
        }
    }

    /// Throws `.truncated` when the range ended inside an entry (call after ``next()``
    /// returned nil): Redis would refuse or truncate such a file.
    public func requireCleanEnd() throws(AOFError) {
        guard pendingBytes > 0 else { return }
        throw AOFError(.truncated, "the file ends inside a command: \(pendingBytes) bytes from here on do not make a whole command",
                       file: name, offset: offset)
    }

    /// Calls `body` with every entry of the range, then checks the range ended cleanly.
    public func forEach(_ body: (AOFEntry) throws -> Void) throws {
        while let entry = try next() { try body(entry) }
        try requireCleanEnd()
    }

    /// Reads more bytes into a fresh buffer that starts with the incomplete entry left
    /// over. A fresh buffer (rather than compacting the old one) leaves entries already
    /// handed out untouched and copies only the leftover; capacity doubles with the
    /// leftover, so one huge command costs O(size) copying, not O(size^2).
    private func fill() throws(AOFError) {
        let remaining = end.map { $0 - state.pointee.readPosition } ?? Int.max
        guard remaining > 0 else { state.pointee.exhausted = true; return }
        let leftover = state.pointee.buffer.readableBytes
        var fresh = ByteBufferAllocator().buffer(capacity: max(blockSize, leftover * 2))
        fresh.writeBuffer(&state.pointee.buffer)
        let want = min(fresh.writableBytes, remaining)
        let position = state.pointee.readPosition
        let descriptor = self.descriptor
        if let source {
            var failure: AOFError?
            let got = fresh.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { raw in
                do throws(AOFError) { return try source(UnsafeMutableRawBufferPointer(rebasing: raw.prefix(want)), position) } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if got == 0 { state.pointee.exhausted = true }
            state.pointee.readPosition += got
            state.pointee.buffer = fresh
            return
        }
        var result = 0
        var failure: Int32 = 0
        repeat {
            fresh.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { raw in
                result = pread(descriptor, raw.baseAddress, want, off_t(position))
                failure = result < 0 ? errno : 0
                return max(0, result)
            }
        } while result < 0 && failure == EINTR
        guard result >= 0 else {
            throw AOFError(.io, "cannot read: \(String(cString: strerror(failure)))", file: name, offset: position)
        }
        let got = result
        if got == 0 { state.pointee.exhausted = true }
        state.pointee.readPosition += got
        state.pointee.buffer = fresh
    }
}
