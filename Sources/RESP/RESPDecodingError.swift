/// Malformed RESP: what was wrong, and the byte offset in the stream where it was found.
///
/// The offset counts every byte the decoder consumed since it was created, so for a
/// connection it is the offset in everything the server sent, and for a file it is the
/// offset in the file (when the decoder starts at the file's first byte).
public struct RESPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset of the offending byte in the decoded stream.
    public var offset: Int
    /// Why the bytes are not valid RESP, in words.
    public var reason: String

    /// Creates an error.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// "malformed RESP at byte offset N: reason".
    public var description: String { "malformed RESP at byte offset \(offset): \(reason)" }
}
