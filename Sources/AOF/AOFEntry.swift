import NIOCore
import RESP

/// One item of an append-only file: a command, or a `#` annotation line such as the
/// `#TS:<unix-seconds>` timestamps of `aof-timestamp-enabled`.
///
/// The entry keeps its raw bytes (a slice of the reader's buffer, not a copy), so it can be
/// forwarded to a server or written to another file exactly as it was.
public struct AOFEntry: Sendable {
    /// What the entry is.
    public enum Kind: Sendable, Hashable {
        /// `*N\r\n$len\r\narg\r\n...`: a command of N arguments.
        case command
        /// `#TS:<unix-seconds>\r\n`, written before the first command of each new second.
        case timestamp(Int64)
        /// Any other `#` line, which Redis's loader skips.
        case annotation
    }

    /// What it is.
    public let kind: Kind
    /// Its first byte's offset in its file.
    public let offset: Int
    /// Its bytes, line endings included.
    public let bytes: ByteBuffer
    /// For a command, where its name's bytes are inside ``bytes`` (reader-relative). Only
    /// the name is located while scanning; the other arguments are found on demand, so
    /// scanning allocates nothing per command.
    let nameStart: Int32
    let nameEnd: Int32
    /// The number of arguments of a command, the name included (0 for annotations).
    public let argumentCount: Int

    init(kind: Kind, offset: Int, bytes: ByteBuffer, nameRange: Range<Int> = 0..<0, argumentCount: Int = 0) {
        self.kind = kind
        self.offset = offset
        self.bytes = bytes
        self.nameStart = Int32(nameRange.lowerBound)
        self.nameEnd = Int32(nameRange.upperBound)
        self.argumentCount = argumentCount
    }

    private var nameRange: Range<Int>? { argumentCount > 0 ? Int(nameStart)..<Int(nameEnd) : nil }

    /// How many bytes it takes in the file.
    public var length: Int { bytes.readableBytes }
    /// The offset just after it: where the next entry starts.
    public var endOffset: Int { offset + length }
    /// True for commands.
    public var isCommand: Bool { kind == .command }

    /// The command's name, upper-cased (`SET`); "" for annotations.
    public var name: String {
        guard let first = nameRange else { return "" }
        return String(decoding: bytes.readableBytesView[bytes.readerIndex + first.lowerBound ..< bytes.readerIndex + first.upperBound], as: UTF8.self).uppercased()
    }

    /// True when the command's name is `upperCaseName`, compared without regard to case
    /// and without allocating (for the MULTI/EXEC checks on every command).
    public func hasName(_ upperCaseName: StaticString) -> Bool {
        guard let first = nameRange else { return false }
        return bytes.withUnsafeReadableBytes { raw in
            CommandName.matches(UnsafeRawBufferPointer(rebasing: raw[first]), upperCaseName)
        }
    }

    /// The command's arguments (name first) as byte buffers, sharing storage with ``bytes``.
    public var arguments: [ByteBuffer] {
        argumentRanges().map { bytes.getSlice(at: bytes.readerIndex + $0.lowerBound, length: $0.count)! }
    }

    /// A command's arguments after its name, exactly as archived (`$3\r\nkey\r\n...`),
    /// sharing storage with ``bytes``: what another command taking the same arguments
    /// (a run of SETs sent as one MSET) copies without parsing them. Empty for annotations.
    public var argumentsAfterName: ByteBuffer {
        guard let name = nameRange else { return ByteBuffer() }
        let start = name.upperBound + 2  // past the name's "\r\n"
        return bytes.getSlice(at: bytes.readerIndex + start, length: max(0, bytes.readableBytes - start))!
    }

    /// Argument `index` (0 is the name) as text, lossy for binary values.
    public func argument(_ index: Int) -> String? {
        let ranges = argumentRanges()
        guard index < ranges.count else { return nil }
        let r = ranges[index]
        return String(decoding: bytes.readableBytesView[bytes.readerIndex + r.lowerBound ..< bytes.readerIndex + r.upperBound], as: UTF8.self)
    }

    /// Where each argument's bytes are (reader-relative). The bytes were validated when
    /// they were scanned, so this walk needs no checks beyond staying in bounds.
    func argumentRanges() -> [Range<Int>] {
        guard argumentCount > 0 else { return [] }
        return bytes.withUnsafeReadableBytes { raw -> [Range<Int>] in
            var ranges: [Range<Int>] = []
            ranges.reserveCapacity(argumentCount)
            var i = 0
            while i < raw.count && raw[i] != 0x0A { i += 1 }  // past "*N\r\n"
            i += 1
            for _ in 0..<argumentCount {
                guard i < raw.count, raw[i] == UInt8(ascii: "$") else { break }
                var length = 0
                i += 1
                while i < raw.count, raw[i] >= 0x30, raw[i] <= 0x39 { length = length * 10 + Int(raw[i] - 0x30); i += 1 }
                i += 2
                ranges.append(i ..< min(i + length, raw.count))
                i += length + 2
            }
            return ranges
        }
    }
}
