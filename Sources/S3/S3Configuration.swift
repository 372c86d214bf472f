/// Everything an ``S3Client`` needs besides the bucket: where, who, how, and how long.
public struct S3Configuration: Sendable {
    /// How a bucket appears in a request's URL.
    public enum Addressing: Sendable, Hashable {
        /// `http://host:port/bucket/key`: what S3-compatible stores expect.
        case path
        /// `https://bucket.s3.region.amazonaws.com/key`: AWS's default.
        case virtualHosted
    }

    /// The service's address.
    public var endpoint: S3Endpoint
    /// The region requests are signed for (`us-east-1` for most S3-compatible stores).
    public var region: String
    /// The keys requests are signed with.
    public var credentials: S3Credentials
    /// Path-style or virtual-hosted; nil picks: virtual-hosted on AWS for bucket names
    /// without dots (TLS certificates cover one label), path-style everywhere else.
    public var addressing: Addressing?
    /// How long opening a connection may take.
    public var connectTimeout: Duration
    /// How long one request may take, from sending it to the last byte of the answer.
    public var requestTimeout: Duration
    /// The part size of multipart uploads: 5 MiB to 5 GiB (S3's bounds).
    public var partSize: Int
    /// Objects larger than this are uploaded in parts (at least ``partSize``).
    public var multipartThreshold: Int
    /// The largest answer body read into memory at once (1 GiB by default): larger objects
    /// are read by ranges.
    public var maximumBodySize: Int

    /// S3's smallest part (but the last).
    public static let minimumPartSize = 5 * 1024 * 1024
    /// S3's largest part.
    public static let maximumPartSize = 5 * 1024 * 1024 * 1024
    /// S3's largest number of parts in one upload.
    public static let maximumPartCount = 10_000

    /// Creates a configuration; the defaults suit a store on the same network.
    public init(endpoint: S3Endpoint, region: String = "us-east-1", credentials: S3Credentials,
                addressing: Addressing? = nil, connectTimeout: Duration = .seconds(5),
                requestTimeout: Duration = .seconds(120), partSize: Int = 8 * 1024 * 1024,
                multipartThreshold: Int = 16 * 1024 * 1024, maximumBodySize: Int = 1 << 30) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.addressing = addressing
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.partSize = partSize
        self.multipartThreshold = multipartThreshold
        self.maximumBodySize = maximumBodySize
    }

    /// Builds a configuration the way S3 tools do:
    ///
    /// - endpoint: `endpointArgument` (`--s3-endpoint URL`), else `AWS_ENDPOINT_URL_S3`, else
    ///   `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`, else
    ///   `https://s3.REGION.amazonaws.com`;
    /// - region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the profile's `region`, else
    ///   `us-east-1`;
    /// - credentials: ``S3Credentials/resolve(environment:files:profile:)``.
    ///
    /// `environment` and `home` are passed in so tests (and the Lab) control them.
    public static func resolve(endpointArgument: String? = nil, environment: [String: String], home: String? = nil,
                               profile: String? = nil) throws(S3Error) -> S3Configuration {
        let files = try AWSSharedFiles.load(environment: environment, home: home)
        let profileName = profile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        func setting(_ names: String...) -> String? {
            for name in names { if let value = environment[name], !value.isEmpty { return value } }
            return nil
        }
        let region = setting("AWS_REGION", "AWS_DEFAULT_REGION") ?? files.value("region", profile: profileName) ?? "us-east-1"
        guard !region.isEmpty, region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw S3Error(.invalidLocation, operation: "use the region", reason: "\"\(region)\" is not a region name (like us-east-1)")
        }
        let endpoint: S3Endpoint
        if let text = endpointArgument.flatMap({ $0.isEmpty ? nil : $0 }) ?? setting("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
            ?? files.value("endpoint_url", profile: profileName) {
            endpoint = try S3Endpoint(parsing: text)
        } else {
            endpoint = .aws(region: region)
        }
        let credentials = try S3Credentials.resolve(environment: environment, files: files, profile: profile)
        return S3Configuration(endpoint: endpoint, region: region, credentials: credentials)
    }

    /// The addressing used for `bucket`.
    public func addressing(for bucket: String) -> Addressing {
        if let addressing { return addressing }
        return endpoint.isAWS && !bucket.contains(".") ? .virtualHosted : .path
    }

    /// Why this configuration cannot be used, or nil.
    func problem() -> String? {
        guard (Self.minimumPartSize...Self.maximumPartSize).contains(partSize) else {
            return "the part size \(partSize) is outside S3's bounds (5 MiB to 5 GiB)"
        }
        guard multipartThreshold >= partSize else {
            return "the multipart threshold \(multipartThreshold) is below the part size \(partSize)"
        }
        guard maximumBodySize > 0 else { return "the largest body read into memory must be positive" }
        guard connectTimeout > .zero, requestTimeout > .zero else { return "timeouts must be positive" }
        return nil
    }
}
