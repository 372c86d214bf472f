import AsyncHTTPClient
import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension S3Client {
    /// Uploads the file at `path` as `key` without holding it whole when it is large: one
    /// PUT up to the multipart threshold, else a multipart upload reading each part from
    /// the file as its turn comes (at most a few parts in memory). Checked like
    /// ``putObject(_:_:ifNoneMatch:contentType:)``; the result's `sha256` is the file's.
    @discardableResult
    public func putObject(_ key: String, contentsOfFile path: String, ifNoneMatch: Bool = false,
                          contentType: String = "application/octet-stream") async throws(S3Error) -> S3PutResult {
        func fileError(_ reason: String) -> S3Error {
            S3Error(.localFile, operation: "upload \(path) to", endpoint: configuration.endpoint.description, bucket: bucket,
                    key: key, reason: reason)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw fileError("cannot open \(path): \(Self.errnoText(errno))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw fileError("\(path) is not a regular file")
        }
        let source = S3UploadSource.file(path: path, descriptor: descriptor, size: Int(status.st_size))
        if source.size > configuration.multipartThreshold {
            return try await putObjectInParts(key, source, ifNoneMatch: ifNoneMatch, contentType: contentType)
        }
        let body: ByteBuffer
        do { body = try await source.read(offset: 0, length: source.size) } catch { throw fileError("\(error)") }
        return try await putObject(key, body, ifNoneMatch: ifNoneMatch, contentType: contentType)
    }

    /// Reads the object `key` (or the bytes `range` of it) as it arrives, handing each
    /// piece to `consume` in order, never holding it whole: for objects too large for
    /// memory, such as a base restored to a file. Returns the number of bytes, which must
    /// be the whole object (or range): a cut answer is an ``S3Error``.
    ///
    /// A transfer this long is bounded by the request timeout between two reads, not
    /// from start to end. Errors are ``S3Error``s, except those `consume` throws, which
    /// pass through unchanged.
    @discardableResult
    public func getObject(_ key: String, range: Range<Int>? = nil,
                          consume: (ByteBuffer) async throws -> Void) async throws -> Int {
        var operation = "GET (streamed)"
        var headers: [(name: String, value: String)] = []
        if let range {
            operation = "GET (bytes \(range.lowerBound)-\(range.upperBound - 1), streamed)"
            guard range.lowerBound >= 0, !range.isEmpty else {
                throw S3Error(.invalidArgument, operation: operation, endpoint: configuration.endpoint.description, bucket: bucket,
                              key: key, reason: "a range must be non-empty and start at 0 or later (got \(range))")
            }
            headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
        }
        try checkKey(key, operation)
        let exchange = Exchange(method: .GET, key: key, headers: headers, operation: operation, accepted: range == nil ? [200] : [206])
        let request = prepare(exchange)
        var received = 0
        var declared: Int?
        statistics.countGet()
        defer { statistics.countReceived(received) }
        do {
            let response = try await http.execute(request, deadline: .distantFuture)
            let status = Int(response.status.code)
            guard exchange.accepted.contains(status) else {
                let body = try await response.body.collect(upTo: 64 * 1024)
                throw answerError(Answer(status: status, headers: response.headers, body: body), exchange)
            }
            declared = response.headers["content-length"].first.flatMap { Int($0) }
            for try await piece in response.body {
                received += piece.readableBytes
                do { try await consume(piece) } catch { throw ConsumerFailure(error: error) }
            }
        } catch let consumer as ConsumerFailure {
            throw consumer.error
        } catch {
            throw transportError(error, exchange, timeout: configuration.requestTimeout)
        }
        if let declared, declared != received {
            throw failure(.connectionLost, exchange, reason: "the answer was cut: \(received) of \(declared) bytes arrived")
        }
        if let range, received != range.count {
            throw failure(.corrupt, exchange, reason: "\(received) bytes arrived, fewer than the \(range.count) asked for")
        }
        return received
    }

    /// An error of the caller's `consume`, carried through the transport's error handling.
    private struct ConsumerFailure: Error { let error: any Error }
}
