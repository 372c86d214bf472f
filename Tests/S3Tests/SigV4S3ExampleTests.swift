import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import S3

/// The signer, and the client's requests, against the examples of AWS's S3 documentation
/// ("Signature Calculations for the Authorization Header": examplebucket, 2013-05-24,
/// AKIAIOSFODNN7EXAMPLE, us-east-1), which sign `x-amz-content-sha256` too.
@Suite struct SigV4S3ExampleTests {
    static let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                           secretAccessKey: S3Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let date = Date(timeIntervalSince1970: 1_369_353_600) // 2013-05-24T00:00:00Z
    static let host = ("host", "examplebucket.s3.amazonaws.com")

    @Test func getObjectWithRange() {
        let signed = Self.signer.sign(SigV4Signer.Request(method: "GET", path: "/test.txt",
                                                          headers: [Self.host, ("range", "bytes=0-9")]), at: Self.date)
        #expect(signed.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signed.stringToSign.hasSuffix("\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"))
        #expect(signed.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(signed.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func signingKeyOfTheDay() {
        let key = Self.signer.signingKey(date: "20130524").withUnsafeBytes { SigV4Signer.hex($0) }
        #expect(key == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
    }

    @Test func putObjectEncodesTheKeyOnceAndSignsThePayload() {
        let payload = S3Digest.sha256(ByteBuffer(string: "Welcome to Amazon S3."))
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = Self.signer.sign(SigV4Signer.Request(
            method: "PUT", path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), Self.host, ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadSHA256: payload), at: Self.date)
        #expect(signed.encodedPath == "/test%24file.text")
        #expect(signed.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
        #expect(signed.authorization.contains("SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"))
        #expect(signed.headers.contains { $0.name == "x-amz-content-sha256" && $0.value == payload })
    }

    @Test func getBucketLifecycleWithAValuelessParameter() {
        let signed = Self.signer.sign(SigV4Signer.Request(method: "GET", path: "/", query: [("lifecycle", "")],
                                                          headers: [Self.host]), at: Self.date)
        #expect(signed.encodedQuery == "lifecycle=")
        #expect(signed.stringToSign.hasSuffix("\n9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"))
        #expect(signed.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjectsSortsTheQuery() {
        let signed = Self.signer.sign(SigV4Signer.Request(method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                                          headers: [Self.host]), at: Self.date)
        #expect(signed.encodedQuery == "max-keys=2&prefix=J")
        #expect(signed.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    /// The client's own request for the GET Object example: virtual-hosted on AWS, the
    /// same headers, so the same signature.
    @Test func clientBuildsTheDocumentedGetObjectRequest() async throws {
        let configuration = S3Configuration(endpoint: try S3Endpoint(parsing: "https://s3.amazonaws.com"), credentials: Self.credentials)
        try await S3Client.withClient(configuration, bucket: "examplebucket") { client in
            let exchange = S3Client.Exchange(method: .GET, key: "test.txt", headers: [("range", "bytes=0-9")], operation: "GET")
            let request = client.prepare(exchange, at: Self.date)
            #expect(request.url == "https://examplebucket.s3.amazonaws.com/test.txt")
            #expect(request.headers["host"] == ["examplebucket.s3.amazonaws.com"])
            #expect(request.headers["authorization"].first?.hasSuffix(
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") == true)
        }
    }

    /// S3-compatible stores get path-style URLs with the port in the Host header, and keys
    /// are encoded once (spaces, `$`, non-ASCII) in both the URL and what is signed.
    @Test func clientUsesPathStyleForOtherStores() async throws {
        let configuration = S3Configuration(endpoint: try S3Endpoint(parsing: "http://127.0.0.1:8333/"), credentials: Self.credentials)
        try await S3Client.withClient(configuration, bucket: "archive.v1") { client in
            let exchange = S3Client.Exchange(method: .GET, key: nil, query: [("prefix", "a b/ሴ"), ("list-type", "2")], operation: "list")
            let request = client.prepare(exchange, at: Self.date)
            #expect(request.url == "http://127.0.0.1:8333/archive.v1?list-type=2&prefix=a%20b%2F%E1%88%B4")
            #expect(request.headers["host"] == ["127.0.0.1:8333"])
            let object = client.prepare(S3Client.Exchange(method: .GET, key: "dir/a b$.bin", operation: "GET"), at: Self.date)
            #expect(object.url == "http://127.0.0.1:8333/archive.v1/dir/a%20b%24.bin")
        }
        let aws = S3Configuration(endpoint: .aws(region: "eu-west-1"), region: "eu-west-1", credentials: Self.credentials)
        #expect(aws.addressing(for: "plain") == .virtualHosted)
        #expect(aws.addressing(for: "with.dots") == .path)
    }

    /// A client released without shutdown() closes its connections itself instead of
    /// crashing (AsyncHTTPClient's debug builds trap on an HTTP client never shut down);
    /// shutting down twice is harmless.
    @Test func clientsMayBeReleasedWithoutShutdownAndShutDownTwice() async throws {
        let configuration = S3Configuration(endpoint: try S3Endpoint(parsing: "http://127.0.0.1:9"), credentials: Self.credentials)
        for _ in 0..<3 { _ = try S3Client(configuration: configuration, bucket: "released") }
        let client = try S3Client(configuration: configuration, bucket: "twice")
        await client.shutdown()
        await client.shutdown()
    }
}
