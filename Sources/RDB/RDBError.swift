/// A problem reading an RDB: what kind, at which byte offset of the input, and what was
/// expected there. Damaged input always ends in one of these, never in a crash.
public struct RDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: Sendable, Hashable {
        /// The input ends before the RDB does.
        case truncated
        /// The bytes are not what the format allows here (a bad length encoding, an
        /// unknown opcode or encoding, a listpack whose header disagrees with its bytes).
        case malformed
        /// The header names an RDB version (or magic) this reader does not know.
        case unsupportedVersion
        /// A value type this reader recognises but cannot read (a module value of the
        /// 4.0 release candidates).
        case unsupportedType
        /// The CRC-64 trailer does not match the bytes.
        case checksum
        /// A length beyond the configured maximum (``RDBReader/Limits``).
        case tooLarge
        /// The byte source could not be read.
        case io
        /// A DUMP payload cannot be made for the target server (``DumpPayload``).
        case incompatible
    }

    /// The kind.
    public var kind: Kind
    /// The byte offset in the input where the problem is.
    public var offset: Int
    /// What was expected and what was found.
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, at offset: Int, _ reason: String) {
        self.kind = kind
        self.offset = offset
        self.reason = reason
    }

    /// `at byte 1234: ...`.
    public var description: String { "at byte \(offset): \(reason)" }
}
