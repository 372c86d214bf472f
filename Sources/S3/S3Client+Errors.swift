import AsyncHTTPClient
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension S3Client {
    /// An ``S3Error`` for `exchange` with this client's endpoint and bucket.
    func failure(_ kind: S3Error.Kind, _ exchange: Exchange, status: Int? = nil, code: String? = nil,
                 serverMessage: String? = nil, reason: String, underlying: (any Error)? = nil) -> S3Error {
        S3Error(kind, operation: exchange.operation, endpoint: configuration.endpoint.description, bucket: bucket,
                key: exchange.key, status: status, code: code, serverMessage: serverMessage, reason: reason,
                underlying: underlying)
    }

    /// The error for an answer whose status is not a success: the S3 error code and
    /// message from its XML body, read into a kind and a reason.
    func answerError(_ answer: Answer, _ exchange: Exchange) -> S3Error {
        let document = S3XML.parse(String(buffer: answer.body))
        let code = document?.value("Code") ?? answer.headers["x-amz-error-code"].first
        let message = document?.value("Message") ?? answer.headers["x-amz-error-message"].first
        let (kind, reason) = Self.classify(status: answer.status, code: code, document: document, answer: answer, exchange: exchange,
                                           accessKeyID: configuration.credentials.accessKeyID)
        return failure(kind, exchange, status: answer.status, code: code, serverMessage: message, reason: reason)
    }

    static func classify(status: Int, code: String?, document: S3XMLElement?, answer: Answer, exchange: Exchange,
                         accessKeyID: String) -> (S3Error.Kind, String) {
        switch (status, code) {
        case (_, "NoSuchBucket"):
            return (.noSuchBucket, "the bucket does not exist")
        case (_, "NoSuchKey"):
            return (.noSuchKey, "no object has this key")
        case (404, _) where exchange.key != nil:
            return (.noSuchKey, "no object has this key (or the bucket does not exist)")
        case (404, _):
            return (.noSuchBucket, "the bucket does not exist")
        case (_, "InvalidAccessKeyId"):
            return (.accessDenied, "the store does not know the access key \(accessKeyID)")
        case (_, "SignatureDoesNotMatch"):
            return (.accessDenied, "the secret access key is not the one of access key \(accessKeyID) (or the endpoint rewrites requests)")
        case (_, "RequestTimeTooSkewed"):
            return (.accessDenied, "this machine's clock differs too much from the store's")
        case (_, "ExpiredToken"), (_, "InvalidToken"):
            return (.accessDenied, "the session token (AWS_SESSION_TOKEN) is expired or invalid")
        case (403, _), (401, _):
            return (.accessDenied, "access denied to access key \(accessKeyID)")
        case (412, _):
            if exchange.headers.contains(where: { $0.name == "if-none-match" }) {
                return (.preconditionFailed, "an object with this key exists already (the write was conditional on If-None-Match: *)")
            }
            return (.preconditionFailed, "a condition of the request did not hold")
        case (_, "BadDigest"), (_, "XAmzContentSHA256Mismatch"), (_, "InvalidDigest"):
            return (.corrupt, "the store received other bytes than were sent")
        case (416, _), (_, "InvalidRange"):
            return (.invalidArgument, "the range starts beyond the object's end")
        case (301, _), (307, _), (_, "PermanentRedirect"), (_, "AuthorizationHeaderMalformed"):
            let region = answer.headers["x-amz-bucket-region"].first ?? document?.value("Region")
            let elsewhere = document?.value("Endpoint")
            var reason = "the bucket is served elsewhere"
            if let region { reason += ": it is in region \(region) (set AWS_REGION=\(region))" } else if let elsewhere { reason += ": at \(elsewhere)" }
            return (.http, reason)
        case (500...599, _):
            return (.http, "the store failed to answer")
        default:
            return (.http, "the store refused the request")
        }
    }

    /// The error for a request that got no complete answer: unreachable, timed out, or cut.
    func transportError(_ error: any Error, _ exchange: Exchange, timeout: Duration) -> S3Error {
        if let error = error as? S3Error { return error }
        if error is S3RequestTimeout {
            return failure(.timedOut, exchange, reason: "no complete answer within \(timeout)")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout:
                return failure(.unreachable, exchange, reason: "connecting timed out after \(configuration.connectTimeout)", underlying: error)
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return failure(.timedOut, exchange, reason: "no complete answer within \(timeout)", underlying: error)
            case .remoteConnectionClosed, .cancelled, .bodyLengthMismatch:
                return failure(.connectionLost, exchange, reason: "the connection closed before the exchange completed", underlying: error)
            default:
                return failure(.connectionLost, exchange, reason: "the HTTP exchange failed: \(error)", underlying: error)
            }
        }
        if error is NIOTooManyBytesError {
            return failure(.invalidArgument, exchange, reason: "the answer is larger than the \(exchange.bodyLimit) bytes this read allows; read it by ranges", underlying: error)
        }
        if let words = Self.connectProblem(error) {
            return failure(.unreachable, exchange, reason: words, underlying: error)
        }
        if let io = error as? IOError {
            return failure(.connectionLost, exchange, reason: "the connection failed: \(Self.errnoText(io.errnoCode))", underlying: error)
        }
        if let channel = error as? ChannelError {
            switch channel {
            case .connectTimeout:
                return failure(.unreachable, exchange, reason: "connecting timed out after \(configuration.connectTimeout)", underlying: error)
            default:
                return failure(.connectionLost, exchange, reason: "the connection closed before the exchange completed", underlying: error)
            }
        }
        if String(describing: type(of: error)).contains("SSL") {
            return failure(.unreachable, exchange, reason: "the TLS connection failed: \(error)", underlying: error)
        }
        return failure(.connectionLost, exchange, reason: "the exchange failed: \(error)", underlying: error)
    }

    /// Words for a failure to open the connection, or nil when `error` is not one.
    static func connectProblem(_ error: any Error) -> String? {
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first {
                if let io = first.error as? IOError { return errnoText(io.errnoCode) }
                return "\(first.error)"
            }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "host not found" }
            return "no address to connect to"
        }
        if String(describing: type(of: error)).contains("Resolution") { return "host not found" }
        if let io = error as? IOError, [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL].contains(io.errnoCode) {
            return errnoText(io.errnoCode)
        }
        return nil
    }

    /// `connection refused` for ECONNREFUSED.
    static func errnoText(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
