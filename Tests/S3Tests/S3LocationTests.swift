import Testing
@testable import S3

/// `s3://` locations, endpoint URLs, and the XML of S3's answers.
@Suite struct S3LocationTests {
    @Test func parsesBucketAndPrefix() throws {
        let full = try S3Location(parsing: "s3://redkeep-archive/prod/cache-1/")
        #expect(full.bucket == "redkeep-archive")
        #expect(full.prefix == "prod/cache-1/")
        #expect(full.key("chunks/0001") == "prod/cache-1/chunks/0001")
        #expect(full.description == "s3://redkeep-archive/prod/cache-1/")
        let bare = try S3Location(parsing: "S3://my.bucket.01")
        #expect(bare.bucket == "my.bucket.01")
        #expect(bare.prefix == "")
        #expect(bare.description == "s3://my.bucket.01")
        #expect(try S3Location(parsing: "s3://abc/").prefix == "")
    }

    @Test(arguments: [
        ("/data/archive", "must start with s3://"),
        ("s3://", "the bucket name is missing"),
        ("s3:///prefix", "the bucket name is missing"),
        ("s3://ab/x", "has 2 characters"),
        ("s3://My_Bucket/x", "may only hold lower-case letters"),
        ("s3://-bucket", "must start and end with a letter or a digit"),
        ("s3://a..b", "cannot hold \"..\""),
        ("s3://192.168.1.20", "cannot be an IP address"),
        ("s3://bucket/a//b", "cannot hold \"//\""),
        ("s3://bucket/a/../b", "cannot have a \"..\" segment"),
        ("s3://bucket/x?versionId=1", "'?' and '#'"),
    ])
    func refusesWithAReason(_ text: String, _ reason: String) {
        let error = #expect(throws: S3Error.self) { try S3Location(parsing: text) }
        #expect(error?.kind == .invalidLocation)
        #expect(error?.description.contains("\"\(text)\" is not an s3:// location") == true)
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test func refusesOverlongPrefixes() {
        let error = #expect(throws: S3Error.self) { try S3Location(parsing: "s3://bucket/" + String(repeating: "k", count: 1025)) }
        #expect(error?.description.contains("has 1025 bytes; S3 keys have at most 1024") == true)
    }

    @Test func endpointsParseAndRefuseCredentials() throws {
        let local = try S3Endpoint(parsing: "http://127.0.0.1:8333")
        #expect(local.scheme == "http" && local.host == "127.0.0.1" && local.port == 8333 && local.basePath == "")
        #expect(local.hostHeader("127.0.0.1") == "127.0.0.1:8333")
        let aws = S3Endpoint.aws(region: "eu-west-1")
        #expect(aws.description == "https://s3.eu-west-1.amazonaws.com")
        #expect(aws.isAWS && aws.effectivePort == 443)
        #expect(aws.hostHeader("b.s3.eu-west-1.amazonaws.com") == "b.s3.eu-west-1.amazonaws.com")
        let v6 = try S3Endpoint(parsing: "https://[::1]:9000/")
        #expect(v6.host == "[::1]" && v6.port == 9000)
        #expect(try S3Endpoint(parsing: "https://store.example:443").hostHeader("store.example") == "store.example")

        let withPassword = #expect(throws: S3Error.self) { try S3Endpoint(parsing: "http://key:supersecret@store:9000") }
        #expect(withPassword?.description.contains("cannot hold a user name or password") == true)
        #expect(withPassword?.description.contains("supersecret") == false)
        #expect(throws: S3Error.self) { try S3Endpoint(parsing: "ftp://store") }
        #expect(throws: S3Error.self) { try S3Endpoint(parsing: "http://store:0") }
        #expect(throws: S3Error.self) { try S3Endpoint(parsing: "http://store:99999") }
        #expect(throws: S3Error.self) { try S3Endpoint(parsing: "http://:9000") }
    }

    @Test func readsS3Documents() throws {
        let listing = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>bucket</Name><IsTruncated>true</IsTruncated>
              <Contents><Key>a &amp; b &lt;1&gt; &#x1234;&#65;</Key><Size>12</Size><ETag>&quot;abc&quot;</ETag></Contents>
              <Contents><Key><![CDATA[c<d>]]></Key><Size>0</Size><Owner/></Contents>
              <NextContinuationToken>tok/en+=</NextContinuationToken>
            </ListBucketResult>
            """
        let document = try #require(S3XML.parse(listing))
        #expect(document.name == "ListBucketResult")
        #expect(document.value("IsTruncated") == "true")
        let contents = document.children("Contents")
        #expect(contents.count == 2)
        #expect(contents[0].value("Key") == "a & b <1> ሴA")
        #expect(contents[0].value("ETag")?.unquotedETag == "abc")
        #expect(contents[1].value("Key") == "c<d>")
        #expect(document.value("NextContinuationToken") == "tok/en+=")
        #expect(S3XML.parse("<Error><Code>NoSuchKey</Code></Err>") == nil)
        #expect(S3XML.parse("<Error><Code>NoSuchKey</Code>") == nil)
        #expect(S3XML.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;")
    }

    @Test func errorsNameWhatWhereAndWhy() {
        let error = S3Error(.accessDenied, operation: "GET", endpoint: "http://127.0.0.1:1", bucket: "b", key: "k/1", status: 403,
                            code: "SignatureDoesNotMatch", serverMessage: "The request signature...", reason: "wrong secret")
        #expect(error.description == "cannot GET s3://b/k/1 at http://127.0.0.1:1: wrong secret (403 SignatureDoesNotMatch: The request signature...)")
        let plain = S3Error(.unreachable, operation: "list objects", endpoint: "http://h:2", bucket: "b", reason: "connection refused")
        #expect(plain.description == "cannot list objects s3://b at http://h:2: connection refused")
    }
}
