/// What went wrong with an S3 request, saying what was attempted, against which endpoint,
/// bucket and key, and why: `cannot GET s3://archive/chunks/0001 at http://127.0.0.1:8333:
/// access denied (403 SignatureDoesNotMatch: The request signature we calculated ...)`.
///
/// Messages never contain the secret access key, the session token or the Authorization
/// header: none of them is ever given to an error.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for code that needs to tell them apart.
    public enum Kind: Sendable, Hashable {
        /// An `s3://` URL, an endpoint URL, a bucket name or a key that cannot be used.
        case invalidLocation
        /// An argument out of its bounds (a range, a part size, a page size).
        case invalidArgument
        /// No credentials found, or a credentials or config file that cannot be read.
        case credentials
        /// The endpoint could not be reached: connection refused, host not found, connect timeout.
        case unreachable
        /// No complete answer within the request timeout.
        case timedOut
        /// The connection broke while the request or its answer was being sent.
        case connectionLost
        /// The store refused the keys or the request (403: wrong key or secret, no permission).
        case accessDenied
        /// The bucket does not exist.
        case noSuchBucket
        /// The key does not exist.
        case noSuchKey
        /// A conditional request's condition did not hold (412): with `If-None-Match: *`,
        /// the key already exists.
        case preconditionFailed
        /// Bytes that are not what they should be: a digest mismatch, a short body, an
        /// answer that cannot be parsed.
        case corrupt
        /// A local file to upload or download into could not be read or written.
        case localFile
        /// Any other HTTP error answer (a 5xx, a redirect to another region...).
        case http
    }

    /// The kind of failure.
    public var kind: Kind
    /// What was attempted: `PUT`, `GET (bytes 0-99)`, `list objects`.
    public var operation: String
    /// The endpoint, `http://127.0.0.1:8333` (never with credentials in it).
    public var endpoint: String?
    /// The bucket, if the request had one.
    public var bucket: String?
    /// The key, if the request had one.
    public var key: String?
    /// The HTTP status of the answer, if there was one.
    public var status: Int?
    /// The S3 error code of the answer (`NoSuchKey`, `SignatureDoesNotMatch`...).
    public var code: String?
    /// The S3 error message of the answer.
    public var serverMessage: String?
    /// Why, in words, when neither status nor code says it (`connection refused`).
    public var reason: String
    /// The error underneath (an AsyncHTTPClient or NIO error), if any.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ kind: Kind, operation: String, endpoint: String? = nil, bucket: String? = nil, key: String? = nil,
                status: Int? = nil, code: String? = nil, serverMessage: String? = nil, reason: String,
                underlying: (any Error)? = nil) {
        self.kind = kind
        self.operation = operation
        self.endpoint = endpoint
        self.bucket = bucket
        self.key = key
        self.status = status
        self.code = code
        self.serverMessage = serverMessage
        self.reason = reason
        self.underlying = underlying
    }

    /// `s3://bucket/key`, `s3://bucket` or nil.
    public var target: String? {
        guard let bucket else { return nil }
        guard let key, !key.isEmpty else { return "s3://\(bucket)" }
        return "s3://\(bucket)/\(key)"
    }

    /// One sentence: what, where, why, and what the store said.
    public var description: String {
        var text = "cannot \(operation)"
        if let target { text += " \(target)" }
        if let endpoint { text += " at \(endpoint)" }
        text += ": \(reason)"
        var answer: [String] = []
        if let status { answer.append(String(status)) }
        if let code { answer.append(code) }
        if !answer.isEmpty || serverMessage != nil {
            var said = answer.joined(separator: " ")
            if let serverMessage, !serverMessage.isEmpty { said += said.isEmpty ? serverMessage : ": \(serverMessage)" }
            text += " (\(said))"
        }
        return text
    }
}
