import NIOCore

/// One piece to read: an object, or a range of it, and the SHA-256 its bytes must have.
public struct S3ReadRequest: Sendable, Hashable {
    /// The object's key.
    public var key: String
    /// The bytes to read, or nil for the whole object.
    public var range: Range<Int>?
    /// The expected SHA-256 of those bytes, in hex; nil to skip the check.
    public var sha256: String?

    /// Creates a request.
    public init(key: String, range: Range<Int>? = nil, sha256: String? = nil) {
        self.key = key
        self.range = range
        self.sha256 = sha256
    }
}

/// Reads pieces in order while the next few are already on their way: the shape of a
/// replay from a bucket (chunk after chunk, each checked before use). At most `window`
/// requests are in flight; a piece is fetched only when the reader has taken the one
/// `window` places before it, so memory stays bounded whatever the reader's pace.
///
/// The first failure (including a SHA-256 mismatch, ``S3Error/Kind/corrupt``) ends the
/// sequence with that error, and the requests still in flight are cancelled.
public struct S3PrefetchingReader: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let client: S3Client
    let requests: [S3ReadRequest]
    let window: Int

    /// Creates a reader of `requests` through `client`, `window` (1 to 64) at a time.
    public init(client: S3Client, requests: [S3ReadRequest], window: Int = 4) throws(S3Error) {
        guard (1...64).contains(window) else {
            throw S3Error(.invalidArgument, operation: "read ahead", endpoint: client.configuration.endpoint.description,
                          bucket: client.bucket, reason: "the read-ahead window is 1 to 64 requests (asked for \(window))")
        }
        self.client = client
        self.requests = requests
        self.window = window
    }

    public func makeAsyncIterator() -> Iterator { Iterator(client: client, requests: requests, window: window) }

    /// Hands out the pieces in request order.
    public struct Iterator: AsyncIteratorProtocol {
        let client: S3Client
        let requests: [S3ReadRequest]
        let window: Int
        var started = 0
        var inFlight: [Task<ByteBuffer, any Error>] = []

        /// The next piece, nil after the last; throws the first failure.
        public mutating func next() async throws -> ByteBuffer? {
            while inFlight.count < window && started < requests.count {
                let request = requests[started]
                let client = self.client
                inFlight.append(Task {
                    if let sha256 = request.sha256 {
                        return try await client.getObject(request.key, range: request.range, expectedSHA256: sha256)
                    }
                    return try await client.getObject(request.key, range: request.range)
                })
                started += 1
            }
            guard !inFlight.isEmpty else { return nil }
            let first = inFlight.removeFirst()
            do {
                return try await withTaskCancellationHandler { try await first.value } onCancel: { first.cancel() }
            } catch {
                for task in inFlight { task.cancel() }
                inFlight.removeAll()
                started = requests.count
                throw error
            }
        }
    }
}
