/// A problem reading an append-only file or its manifest: what, where (file and byte
/// offset, or manifest line) and why.
public struct AOFError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is, for callers that react differently (a collector waits
    /// for a truncated tail to be completed; a checker reports it).
    public enum Kind: Sendable, Hashable {
        /// The bytes are not a valid AOF command or annotation.
        case malformed
        /// The file ends in the middle of a command.
        case truncated
        /// MULTI inside MULTI, EXEC or DISCARD without MULTI.
        case transaction
        /// The manifest breaks one of the rules Redis enforces when it loads it.
        case manifest
        /// The file could not be opened or read.
        case io
    }

    /// The kind.
    public var kind: Kind
    /// The file, when known.
    public var file: String?
    /// The byte offset in the file (or the line number, for the manifest), when known.
    public var offset: Int?
    /// Why.
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, _ reason: String, file: String? = nil, offset: Int? = nil) {
        self.kind = kind
        self.reason = reason
        self.file = file
        self.offset = offset
    }

    /// `appendonly.aof.1.incr.aof at byte 1234: bad bulk length "$x"`.
    public var description: String {
        var place = file ?? ""
        if let offset { place += place.isEmpty ? "at byte \(offset)" : (kind == .manifest ? ":\(offset)" : " at byte \(offset)") }
        return place.isEmpty ? reason : "\(place): \(reason)"
    }

    /// This error, naming `file` if it named none.
    public func inFile(_ name: String) -> AOFError {
        var copy = self
        if copy.file == nil { copy.file = name }
        return copy
    }
}
