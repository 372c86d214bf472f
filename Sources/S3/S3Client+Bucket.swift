import NIOCore

extension S3Client {
    /// Creates the bucket (for tests and the Lab; production buckets are made by their
    /// owners). A bucket this account already owns counts as created.
    public func createBucket() async throws(S3Error) {
        var body = ByteBuffer()
        var headers: [(name: String, value: String)] = []
        // us-east-1 is the default location and must not be named; other regions must be.
        if configuration.region != "us-east-1" {
            body = ByteBuffer(string: "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                              + "<LocationConstraint>\(S3XML.escape(configuration.region))</LocationConstraint></CreateBucketConfiguration>")
            headers.append(("content-type", "application/xml"))
        }
        let exchange = Exchange(method: .PUT, key: nil, headers: headers, body: body, payloadSHA256: S3Digest.sha256(body),
                                operation: "create the bucket")
        do {
            _ = try await perform(exchange)
        } catch where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// True when the bucket exists and the keys may use it; false when it does not exist.
    public func bucketExists() async throws(S3Error) -> Bool {
        let answer = try await perform(Exchange(method: .HEAD, key: nil, operation: "HEAD the bucket", accepted: [200, 404]))
        return answer.status == 200
    }
}
