import NIOCore
import NIOHTTP1

extension S3Client {
    /// Stores `body` under `key`, whole: one PUT, or a multipart upload when it is larger
    /// than the configuration's `multipartThreshold`.
    ///
    /// The store checks the bytes it receives against the SHA-256 signed with the request
    /// (and `Content-MD5`), and a single PUT's ETag is compared with the MD5 sent, so a
    /// returned result means the object is stored as given. With `ifNoneMatch` the write
    /// happens only if no object has the key (`If-None-Match: *`); otherwise it fails with
    /// ``S3Error/Kind/preconditionFailed``: enough for a lease and for never overwriting a
    /// published object.
    @discardableResult
    public func putObject(_ key: String, _ body: ByteBuffer, ifNoneMatch: Bool = false,
                          contentType: String = "application/octet-stream") async throws(S3Error) -> S3PutResult {
        if body.readableBytes > configuration.multipartThreshold {
            return try await putObjectInParts(key, .buffer(body), ifNoneMatch: ifNoneMatch, contentType: contentType)
        }
        let operation = ifNoneMatch ? "PUT (only if the key is free)" : "PUT"
        try checkKey(key, operation)
        let digest = S3Digest(body)
        var headers: [(name: String, value: String)] = [("content-type", contentType), ("content-md5", digest.md5Base64)]
        if ifNoneMatch { headers.append(("if-none-match", "*")) }
        let exchange = Exchange(method: .PUT, key: key, headers: headers, body: body, payloadSHA256: digest.sha256, operation: operation)
        let answer = try await perform(exchange)
        let etag = answer.headers["etag"].first?.unquotedETag ?? ""
        try checkETag(etag, md5: digest.md5, exchange)
        return S3PutResult(key: key, size: body.readableBytes, etag: etag, sha256: digest.sha256, parts: 1)
    }

    /// Reads the object `key`, whole or the bytes `range` of it (a ranged GET). The answer
    /// must hold exactly those bytes: an object shorter than the range's end is
    /// ``S3Error/Kind/corrupt`` (unless `allowingShorter`, when the bytes up to the
    /// object's end are returned), as is a body cut short.
    public func getObject(_ key: String, range: Range<Int>? = nil, allowingShorter: Bool = false) async throws(S3Error) -> ByteBuffer {
        var operation = "GET"
        var headers: [(name: String, value: String)] = []
        var limit = configuration.maximumBodySize
        if let range {
            operation = "GET (bytes \(range.lowerBound)-\(range.upperBound - 1))"
            guard range.lowerBound >= 0, !range.isEmpty else {
                throw S3Error(.invalidArgument, operation: operation, endpoint: configuration.endpoint.description, bucket: bucket,
                              key: key, reason: "a range must be non-empty and start at 0 or later (got \(range))")
            }
            guard range.count <= configuration.maximumBodySize else {
                throw S3Error(.invalidArgument, operation: operation, endpoint: configuration.endpoint.description, bucket: bucket,
                              key: key, reason: "the range has \(range.count) bytes, more than the \(configuration.maximumBodySize) read at once")
            }
            headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
            limit = range.count
        }
        try checkKey(key, operation)
        let exchange = Exchange(method: .GET, key: key, headers: headers, operation: operation,
                                accepted: range == nil ? [200] : [200, 206], bodyLimit: limit)
        statistics.countGet()
        let answer = try await perform(exchange)
        let received = answer.body.readableBytes
        statistics.countReceived(received)
        if let declared = answer.headers["content-length"].first.flatMap({ Int($0) }), declared != received {
            throw failure(.connectionLost, exchange, status: answer.status,
                          reason: "the answer was cut: \(received) of \(declared) bytes arrived")
        }
        if let range, received != range.count {
            let total = answer.headers["content-range"].first?.split(separator: "/").last.flatMap { Int($0) }
            if allowingShorter, received < range.count, total == range.lowerBound + received { return answer.body }
            let size = total.map { "the object has \($0) bytes" } ?? "\(received) bytes arrived"
            throw failure(.corrupt, exchange, status: answer.status,
                          reason: "\(size), fewer than the \(range.count) asked for")
        }
        return answer.body
    }

    /// Reads like ``getObject(_:range:)`` and checks the bytes' SHA-256 (hex) before
    /// returning them: a mismatch is ``S3Error/Kind/corrupt`` naming both digests.
    public func getObject(_ key: String, range: Range<Int>? = nil, expectedSHA256: String) async throws(S3Error) -> ByteBuffer {
        let body = try await getObject(key, range: range)
        let actual = S3Digest.sha256(body)
        guard actual == expectedSHA256.lowercased() else {
            let bytes = range.map { " (bytes \($0.lowerBound)-\($0.upperBound - 1))" } ?? ""
            throw S3Error(.corrupt, operation: "check" + bytes, endpoint: configuration.endpoint.description, bucket: bucket,
                          key: key, reason: "the bytes' sha256 is \(actual), not the expected \(expectedSHA256)")
        }
        return body
    }

    /// Size and ETag of the object `key`; nil when there is no such object (a missing
    /// bucket also answers 404 to HEAD, without saying which is missing).
    public func headObject(_ key: String) async throws(S3Error) -> S3ObjectInfo? {
        try checkKey(key, "HEAD")
        let exchange = Exchange(method: .HEAD, key: key, operation: "HEAD", accepted: [200, 404])
        let answer = try await perform(exchange)
        guard answer.status == 200 else { return nil }
        guard let size = answer.headers["content-length"].first.flatMap({ Int($0) }) else {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the answer has no Content-Length")
        }
        return S3ObjectInfo(key: key, size: size, etag: answer.headers["etag"].first?.unquotedETag ?? "",
                            lastModified: answer.headers["last-modified"].first)
    }

    /// Deletes the object `key`. Deleting a key that does not exist succeeds (S3 answers
    /// 204 either way).
    public func deleteObject(_ key: String) async throws(S3Error) {
        try checkKey(key, "DELETE")
        _ = try await perform(Exchange(method: .DELETE, key: key, operation: "DELETE", accepted: [200, 204]))
    }

    /// Throws when `key` cannot be used as an object key.
    func checkKey(_ key: String, _ operation: String) throws(S3Error) {
        let problem = key.isEmpty ? "the key is empty" : S3Location.keyProblem(key)
        if let problem {
            throw S3Error(.invalidLocation, operation: operation, endpoint: configuration.endpoint.description, bucket: bucket,
                          key: key, reason: problem)
        }
    }

    /// Throws when a single PUT's ETag is an MD5 other than the one of the bytes sent.
    func checkETag(_ etag: String, md5: String, _ exchange: Exchange) throws(S3Error) {
        // Encrypted (SSE-KMS) objects have ETags that are not the MD5; those are 32 hex
        // digits too, but only on AWS with KMS, which this client does not request.
        let looksLikeMD5 = etag.count == 32 && etag.allSatisfy(\.isHexDigit)
        if looksLikeMD5 && etag.lowercased() != md5 {
            throw failure(.corrupt, exchange, reason: "the store's ETag \(etag) is not the MD5 \(md5) of the bytes sent")
        }
    }
}
