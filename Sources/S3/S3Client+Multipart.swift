import Crypto
import Foundation
import NIOCore

extension S3Client {
    /// How many parts of one multipart upload are sent at once.
    static let partConcurrency = 4

    /// Stores `source` as a multipart upload: parts of the configured size (the last one
    /// smaller), read in order and sent a few at a time, each checked by the store against
    /// its SHA-256 and MD5 and its ETag compared with the MD5 sent, then completed. With
    /// `ifNoneMatch` the completion carries `If-None-Match: *`. Any failure aborts the
    /// upload, so no parts are left behind (as far as the store can still be reached).
    func putObjectInParts(_ key: String, _ source: S3UploadSource, ifNoneMatch: Bool, contentType: String) async throws(S3Error) -> S3PutResult {
        try checkKey(key, "multipart upload")
        let size = source.size
        // S3 allows 10 000 parts: larger objects get larger parts.
        let partSize = max(configuration.partSize, (size + S3Configuration.maximumPartCount - 1) / S3Configuration.maximumPartCount)
        let partCount = max(1, (size + partSize - 1) / partSize)
        let uploadID = try await createMultipartUpload(key, contentType: contentType)
        do {
            let (etags, sha256) = try await uploadParts(key, source, uploadID: uploadID, partSize: partSize, partCount: partCount)
            let etag = try await completeMultipartUpload(key, uploadID: uploadID, etags: etags, ifNoneMatch: ifNoneMatch)
            return S3PutResult(key: key, size: size, etag: etag, sha256: sha256, parts: partCount)
        } catch {
            await abortMultipartUpload(key, uploadID: uploadID)
            throw error
        }
    }

    private func createMultipartUpload(_ key: String, contentType: String) async throws(S3Error) -> String {
        let exchange = Exchange(method: .POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType)],
                                operation: "start a multipart upload of")
        let answer = try await perform(exchange)
        guard let id = S3XML.parse(String(buffer: answer.body))?.value("UploadId"), !id.isEmpty else {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the answer has no UploadId")
        }
        return id
    }

    /// Reads the parts in order (hashing the whole on the way) and sends them, at most
    /// ``partConcurrency`` at once; returns their ETags in order and the SHA-256 of all.
    private func uploadParts(_ key: String, _ source: S3UploadSource, uploadID: String, partSize: Int,
                             partCount: Int) async throws(S3Error) -> ([String], String) {
        do {
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var etags = [String](repeating: "", count: partCount)
                var whole = SHA256()
                var next = 0
                func addNext() async throws {
                    let number = next + 1
                    let offset = next * partSize
                    let part = try await source.read(offset: offset, length: min(partSize, source.size - offset))
                    part.withUnsafeReadableBytes { whole.update(bufferPointer: $0) }
                    next += 1
                    group.addTask { (number, try await self.uploadPart(key, part, number: number, uploadID: uploadID)) }
                }
                while next < min(partCount, Self.partConcurrency) { try await addNext() }
                while let (number, etag) = try await group.next() {
                    etags[number - 1] = etag
                    if next < partCount { try await addNext() }
                }
                return (etags, SigV4Signer.hex(whole.finalize()))
            }
        } catch let error as S3Error {
            throw error
        } catch let error as S3FileProblem {
            throw S3Error(.localFile, operation: "upload parts of", endpoint: configuration.endpoint.description, bucket: bucket,
                          key: key, reason: error.description, underlying: error)
        } catch {
            throw S3Error(.connectionLost, operation: "upload parts of", endpoint: configuration.endpoint.description, bucket: bucket,
                          key: key, reason: "\(error)", underlying: error)
        }
    }

    private func uploadPart(_ key: String, _ part: ByteBuffer, number: Int, uploadID: String) async throws(S3Error) -> String {
        let digest = S3Digest(part)
        let exchange = Exchange(method: .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                headers: [("content-md5", digest.md5Base64)], body: part, payloadSHA256: digest.sha256,
                                operation: "upload part \(number) of")
        let answer = try await perform(exchange)
        guard let etag = answer.headers["etag"].first?.unquotedETag, !etag.isEmpty else {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the answer has no ETag")
        }
        try checkETag(etag, md5: digest.md5, exchange)
        return etag
    }

    private func completeMultipartUpload(_ key: String, uploadID: String, etags: [String], ifNoneMatch: Bool) async throws(S3Error) -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\"\(S3XML.escape(etag))\"</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = ByteBuffer(string: xml)
        var headers: [(name: String, value: String)] = [("content-type", "application/xml")]
        if ifNoneMatch { headers.append(("if-none-match", "*")) }
        let exchange = Exchange(method: .POST, key: key, query: [("uploadId", uploadID)], headers: headers, body: body,
                                payloadSHA256: S3Digest.sha256(body),
                                operation: ifNoneMatch ? "complete the multipart upload (only if the key is free) of" : "complete the multipart upload of")
        let answer = try await perform(exchange)
        // S3 may answer 200 and still fail, with an Error document as the body.
        let document = S3XML.parse(String(buffer: answer.body))
        if let document, document.name == "Error" {
            throw answerError(Answer(status: answer.status, headers: answer.headers, body: answer.body), exchange)
        }
        guard let etag = document?.value("ETag")?.unquotedETag ?? answer.headers["etag"].first?.unquotedETag else {
            throw failure(.corrupt, exchange, status: answer.status, reason: "the answer has no ETag")
        }
        return etag
    }

    /// Aborts an upload, ignoring failures: it runs on the way out of another failure.
    private func abortMultipartUpload(_ key: String, uploadID: String) async {
        let exchange = Exchange(method: .DELETE, key: key, query: [("uploadId", uploadID)], operation: "abort the multipart upload of",
                                accepted: [200, 204, 404])
        _ = try? await perform(exchange)
    }
}
