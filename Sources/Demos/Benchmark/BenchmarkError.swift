/// A benchmark that cannot run as asked: bad options, an unreadable or malformed CSV, a
/// reference tool that failed. The message says what, where and why; the kind is for
/// callers that react differently, the file is the one concerned, and the underlying error
/// is there when one caused it.
public struct BenchmarkError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// An option is out of range or unknown (a test name, `--clients 0`, no CSV files).
        case invalidRequest
        /// The server answered a benchmark command with an error.
        case serverError
        /// A file is not a benchmark CSV, or one of its lines does not parse.
        case badCSV
        /// A file could not be read or written (open, write, fsync, rename).
        case files
    }

    /// The kind.
    public var kind: Kind
    /// The whole explanation.
    public var message: String
    /// The file concerned (a CSV or an SVG being written), when there is one.
    public var path: String?
    /// What failed underneath, when anything did.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, path: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }
}
