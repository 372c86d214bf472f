import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests, by header (`Authorization: AWS4-HMAC-SHA256 ...`).
///
/// Pure: it computes, it sends nothing. The steps are AWS's: a canonical request (method,
/// encoded path, sorted query, lower-case sorted headers, signed header names, payload
/// hash), a string to sign (algorithm, timestamp, scope, hash of the canonical request), a
/// signing key derived from the secret, the date, the region and the service, and the
/// HMAC of the string to sign under that key. S3's own rules apply: the path is encoded
/// once and never normalised.
public struct SigV4Signer: Sendable {
    /// The keys that sign.
    public var credentials: S3Credentials
    /// `us-east-1`; part of the scope and of the signing key.
    public var region: String
    /// `s3`; the AWS test suite uses `service`.
    public var service: String

    /// The SHA-256 of an empty payload, in hex.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Creates a signer.
    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// What is signed.
    public struct Request: Sendable {
        /// `GET`, `PUT`...
        public var method: String
        /// The path, not encoded (`/bucket/a key`): the signer encodes it, once.
        public var path: String
        /// The query parameters, not encoded, in any order.
        public var query: [(name: String, value: String)]
        /// The headers to sign and send (`host` among them), not counting the ones the
        /// signer adds (`x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token`).
        public var headers: [(name: String, value: String)]
        /// The payload's SHA-256 in lower-case hex, or `UNSIGNED-PAYLOAD`.
        public var payloadSHA256: String

        /// Creates a request to sign.
        public init(method: String, path: String, query: [(name: String, value: String)] = [],
                    headers: [(name: String, value: String)], payloadSHA256: String = SigV4Signer.emptyPayloadSHA256) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadSHA256 = payloadSHA256
        }
    }

    /// A signed request: the headers to send, and the intermediate texts for tests.
    public struct Signed: Sendable {
        /// Every header to send, `authorization` last.
        public var headers: [(name: String, value: String)]
        /// The encoded path to put in the URL.
        public var encodedPath: String
        /// The canonical query string to put in the URL (empty when there is none).
        public var encodedQuery: String
        /// The canonical request.
        public var canonicalRequest: String
        /// The string to sign.
        public var stringToSign: String
        /// The signature, lower-case hex.
        public var signature: String
        /// The `Authorization` header's value. Not secret, but not worth printing either.
        public var authorization: String
    }

    /// Signs `request` as of `date`. With `contentSHA256Header` (what S3 wants) the
    /// payload hash is also sent and signed as `x-amz-content-sha256`, so the store checks
    /// the bytes it received against it. A session token is sent and signed as
    /// `x-amz-security-token`.
    public func sign(_ request: Request, at date: Date, contentSHA256Header: Bool = true) -> Signed {
        let timestamp = SigV4Timestamp(date)
        var headers = request.headers
        headers.append(("x-amz-date", timestamp.dateTime))
        if contentSHA256Header { headers.append(("x-amz-content-sha256", request.payloadSHA256)) }
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token.revealed)) }

        let encodedPath = S3URIEncoding.path(request.path.isEmpty ? "/" : request.path)
        let encodedQuery = S3URIEncoding.query(request.query)
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers)
        let canonicalRequest = [
            request.method.uppercased(), encodedPath, encodedQuery, canonicalHeaders, signedHeaders, request.payloadSHA256,
        ].joined(separator: "\n")

        let scope = "\(timestamp.date)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", timestamp.dateTime, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8),
                                                                 using: signingKey(date: timestamp.date)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        headers.append(("authorization", authorization))
        return Signed(headers: headers, encodedPath: encodedPath, encodedQuery: encodedQuery,
                      canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
                      authorization: authorization)
    }

    /// The signing key for a day (`20130524`): HMAC chain over date, region, service and
    /// `aws4_request`, starting from `AWS4` + secret.
    public func signingKey(date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey.revealed).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key))
        }
        return key
    }

    /// The canonical headers block (each `name:value\n`, names lower-case and sorted,
    /// values trimmed with inner runs of spaces made one, repeated names joined with `,`)
    /// and the signed header names (`host;x-amz-date`).
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            let clean = trimmedValue(value)
            if let existing = merged[lower] { merged[lower] = existing + "," + clean } else { merged[lower] = clean }
        }
        let names = merged.keys.sorted()
        let block = names.map { "\($0):\(merged[$0]!)\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Trims a header value and makes each run of spaces or tabs one space.
    static func trimmedValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for character in value {
            if character == " " || character == "\t" || character == "\n" || character == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(character)
            }
        }
        return out
    }

    /// Lower-case hex of a digest or MAC.
    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A SigV4 timestamp: `20130524T000000Z` and its day `20130524`, in UTC.
struct SigV4Timestamp {
    let dateTime: String
    let date: String

    init(_ instant: Date) {
        var seconds = time_t(instant.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        date = "\(parts.tm_year + 1900)" + two(parts.tm_mon + 1) + two(parts.tm_mday)
        dateTime = date + "T" + two(parts.tm_hour) + two(parts.tm_min) + two(parts.tm_sec) + "Z"
    }
}
