/// Why a local server could not be started, stopped or reached: one complete sentence
/// naming the server, its port or folder, and the cause (with the last lines of its log
/// when the server itself said why); the kind, for callers that react differently; the
/// server concerned; and the underlying error when there was one.
public struct LabError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Hashable {
        /// A program the Lab runs (redis-server, weed, openssl) is missing, not executable,
        /// or not what it should be.
        case binaryMissing
        /// The name is not a valid server or object store name.
        case invalidName
        /// A server or object store of that name already runs (or the name is taken).
        case alreadyExists
        /// No server or object store has that name (or the master named is not running).
        case notFound
        /// The server is not running, so it cannot be crashed.
        case notRunning
        /// The port is taken, out of range, or no free port could be found.
        case portUnavailable
        /// The server or object store exited at once, or could not be launched.
        case startFailed
        /// A server left running by an earlier `--keep` run could not be stopped.
        case stopFailed
        /// A wait ran out of time (PING, the replica's link, openssl).
        case timeout
        /// The TLS certificates could not be made.
        case tls
        /// A folder or file could not be created or written.
        case files
    }

    /// The kind.
    public var kind: Kind
    /// The whole message.
    public var message: String
    /// The Lab name of the server or object store concerned, when there is one.
    public var server: String?
    /// What failed underneath, when anything did.
    public var underlying: (any Error & Sendable)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, server: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.server = server
        self.underlying = underlying
    }

    /// An error of kind ``Kind/startFailed`` (a test's helper, or a server that would not run).
    public init(_ message: String) { self.init(.startFailed, message) }

    /// The message.
    public var description: String { message }
}
