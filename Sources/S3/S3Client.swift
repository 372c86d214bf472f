import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A small S3 client for one bucket: write an object (optionally only if its key is free),
/// read it whole or by range, look at it, list by prefix, delete; multipart uploads for
/// large objects. Requests are signed with SigV4, bounded by a timeout, and their failures
/// are ``S3Error``s naming the endpoint, bucket and key.
///
/// Each client owns one HTTP connection pool: call ``shutdown()`` when done (or use
/// ``withClient(_:bucket:_:)``), before the client is released.
public final class S3Client: Sendable {
    /// Where and how requests go.
    public let configuration: S3Configuration
    /// The bucket every request of this client is about.
    public let bucket: String
    let http: HTTPClient
    let signer: SigV4Signer
    private let isShutDown = Mutex(false)
    /// GETs sent and bytes they received.
    public let statistics = S3ClientStatistics()

    /// Creates a client for `bucket`; nothing is sent until the first request. Its
    /// connections run on `eventLoopGroup` (nil: NIO's shared group), which must outlive
    /// the client's ``shutdown()``.
    public init(configuration: S3Configuration, bucket: String, eventLoopGroup: (any EventLoopGroup)? = nil) throws(S3Error) {
        if let problem = S3Location.bucketNameProblem(bucket) {
            throw S3Error(.invalidLocation, operation: "use the bucket", endpoint: configuration.endpoint.description, reason: problem)
        }
        if let problem = configuration.problem() {
            throw S3Error(.invalidArgument, operation: "configure the S3 client", endpoint: configuration.endpoint.description, reason: problem)
        }
        self.configuration = configuration
        self.bucket = bucket
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        var http = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout),
                                                           read: Self.timeAmount(configuration.requestTimeout)),
                                            decompression: .disabled)
        // Fail a request at once when the endpoint cannot be reached, rather than retrying
        // the connection until the request's deadline: the caller decides about retries.
        http.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroup: eventLoopGroup ?? HTTPClient.defaultEventLoopGroup, configuration: http)
    }

    /// Closes the connections. The client cannot be used afterwards; calling it again
    /// does nothing.
    public func shutdown() async {
        let first = isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
        if first { try? await http.shutdown() }
    }

    deinit {
        guard !isShutDown.withLock({ $0 }) else { return }
        // Released without shutdown(): close the pool in the background (the callback
        // keeps the HTTP client alive until then) instead of tripping AsyncHTTPClient's
        // debug check on an HTTP client that was never shut down.
        let http = self.http
        http.shutdown(queue: .global()) { _ in withExtendedLifetime(http) {} }
    }

    /// Runs `body` with a new client and shuts it down afterwards, also when `body` throws.
    public static func withClient<T: Sendable>(_ configuration: S3Configuration, bucket: String,
                                               _ body: (S3Client) async throws -> T) async throws -> T {
        let client = try S3Client(configuration: configuration, bucket: bucket)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    // MARK: - One request

    /// One request as the operations describe it, before signing.
    struct Exchange: Sendable {
        var method: HTTPMethod
        /// The object key; nil for a request about the bucket itself.
        var key: String?
        var query: [(name: String, value: String)] = []
        var headers: [(name: String, value: String)] = []
        var body: ByteBuffer?
        var payloadSHA256: String = SigV4Signer.emptyPayloadSHA256
        /// What is attempted, for messages: `PUT`, `GET (bytes 0-99)`.
        var operation: String
        /// The statuses that count as success.
        var accepted: Set<Int> = [200]
        /// The largest success body read.
        var bodyLimit: Int = 1 << 20
    }

    /// The answer: status, headers and the body read whole.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Signs and sends `exchange`, reads the answer, and turns an error status into an
    /// ``S3Error``. The whole exchange is bounded by the request timeout.
    func perform(_ exchange: Exchange) async throws(S3Error) -> Answer {
        let request = prepare(exchange)
        let timeout = configuration.requestTimeout
        let answer: Answer
        do {
            answer = try await Self.withTimeout(timeout) { [http] in
                let response = try await http.execute(request, deadline: .now() + Self.timeAmount(timeout))
                let status = Int(response.status.code)
                let limit = exchange.accepted.contains(status) ? exchange.bodyLimit : 64 * 1024
                let body = exchange.method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: limit)
                return Answer(status: status, headers: response.headers, body: body)
            }
        } catch {
            throw transportError(error, exchange, timeout: timeout)
        }
        guard exchange.accepted.contains(answer.status) else { throw answerError(answer, exchange) }
        return answer
    }

    /// The HTTP request for `exchange`: URL, signed headers, body.
    func prepare(_ exchange: Exchange, at date: Date = Date()) -> HTTPClientRequest {
        let endpoint = configuration.endpoint
        let host: String
        var path = endpoint.basePath
        switch configuration.addressing(for: bucket) {
        case .path:
            host = endpoint.host
            path += "/" + bucket
            if let key = exchange.key { path += "/" + key }
        case .virtualHosted:
            host = "\(bucket).\(endpoint.host)"
            path += "/" + (exchange.key ?? "")
        }
        var headers = exchange.headers
        headers.insert(("host", endpoint.hostHeader(host)), at: 0)
        let signed = signer.sign(SigV4Signer.Request(method: exchange.method.rawValue, path: path, query: exchange.query,
                                                     headers: headers, payloadSHA256: exchange.payloadSHA256),
                                 at: date)
        let port = endpoint.port.map { ":\($0)" } ?? ""
        var request = HTTPClientRequest(url: "\(endpoint.scheme)://\(host)\(port)\(signed.encodedPath)"
                                             + (signed.encodedQuery.isEmpty ? "" : "?" + signed.encodedQuery))
        request.method = exchange.method
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        if let body = exchange.body {
            request.body = .bytes(body)
        } else if exchange.method == .PUT || exchange.method == .POST {
            request.body = .bytes(ByteBuffer())
        }
        return request
    }

    /// Runs `body`, failing with ``S3RequestTimeout`` when it takes longer than `timeout`
    /// (and cancelling it).
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw S3RequestTimeout() }
            return value
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// The request timeout passed (internal marker, turned into ``S3Error/Kind/timedOut``).
struct S3RequestTimeout: Error {}
