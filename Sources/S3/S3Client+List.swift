import Crypto
import Foundation
import NIOCore

extension S3Client {
    /// One page of the objects whose keys start with `prefix` (ListObjectsV2), in key
    /// order: at most `maxKeys` (1 to 1000), after the page `continuationToken` names.
    public func listObjects(prefix: String = "", continuationToken: String? = nil, startAfter: String? = nil,
                            maxKeys: Int = 1000) async throws(S3Error) -> S3ListPage {
        let operation = "list objects" + (prefix.isEmpty ? "" : " under \"\(prefix)\"")
        guard (1...1000).contains(maxKeys) else {
            throw S3Error(.invalidArgument, operation: operation, endpoint: configuration.endpoint.description, bucket: bucket,
                          reason: "a page holds 1 to 1000 keys (asked for \(maxKeys))")
        }
        var query: [(name: String, value: String)] = [("list-type", "2"), ("max-keys", String(maxKeys))]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        let exchange = Exchange(method: .GET, key: nil, query: query, operation: operation, bodyLimit: 16 << 20)
        let answer = try await perform(exchange)
        guard let document = S3XML.parse(String(buffer: answer.body)), document.name == "ListBucketResult" else {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the answer is not a ListBucketResult document")
        }
        var objects: [S3ObjectInfo] = []
        for entry in document.children("Contents") {
            guard let key = entry.value("Key"), let size = entry.value("Size").flatMap({ Int($0) }) else {
                throw failure(.corrupt, exchange, status: answer.status, reason: "a listed object has no Key or Size")
            }
            objects.append(S3ObjectInfo(key: key, size: size, etag: entry.value("ETag")?.unquotedETag ?? "",
                                        lastModified: entry.value("LastModified")))
        }
        let truncated = document.value("IsTruncated") == "true"
        let next = document.value("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated && next == nil {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the listing is truncated but has no NextContinuationToken")
        }
        return S3ListPage(objects: objects, continuationToken: truncated ? next : nil)
    }

    /// Every object whose key starts with `prefix`, following the pages. Refuses to
    /// gather more than `limit` objects (a runaway listing would exhaust memory).
    public func listAllObjects(prefix: String = "", pageSize: Int = 1000, limit: Int = 1_000_000) async throws(S3Error) -> [S3ObjectInfo] {
        var all: [S3ObjectInfo] = []
        var token: String?
        repeat {
            let page = try await listObjects(prefix: prefix, continuationToken: token, maxKeys: pageSize)
            all += page.objects
            if all.count > limit {
                throw S3Error(.invalidArgument, operation: "list objects under \"\(prefix)\"", endpoint: configuration.endpoint.description,
                              bucket: bucket, reason: "there are more than \(limit) objects")
            }
            token = page.continuationToken
        } while token != nil
        return all
    }

    /// Deletes the objects `keys` (DeleteObjects, up to 1000 a request). Keys that do not
    /// exist count as deleted; the first key the store refused to delete is an error.
    public func deleteObjects(_ keys: [String]) async throws(S3Error) {
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + 1000, keys.count)]
            start += batch.count
            for key in batch { try checkKey(key, "delete objects") }
            var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            for key in batch { xml += "<Object><Key>\(S3XML.escape(key))</Key></Object>" }
            xml += "</Delete>"
            let body = ByteBuffer(string: xml)
            let digest = S3Digest(body)
            let exchange = Exchange(method: .POST, key: nil, query: [("delete", "")],
                                    headers: [("content-type", "application/xml"), ("content-md5", digest.md5Base64)],
                                    body: body, payloadSHA256: digest.sha256, operation: "delete \(batch.count) objects")
            let answer = try await perform(exchange)
            if let refused = S3XML.parse(String(buffer: answer.body))?.children("Error").first {
                let key = refused.value("Key")
                throw S3Error(.http, operation: "delete", endpoint: configuration.endpoint.description, bucket: bucket, key: key,
                              status: answer.status, code: refused.value("Code"), serverMessage: refused.value("Message"),
                              reason: "the store refused to delete it")
            }
        }
    }
}
