/// The HTTP(S) address of an S3 service: `https://s3.eu-west-1.amazonaws.com`, or an
/// S3-compatible store such as `http://127.0.0.1:8333` (SeaweedFS, Ceph RGW, MinIO).
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public let scheme: String
    /// The host name or address; an IPv6 address keeps its brackets (`[::1]`).
    public let host: String
    /// The port when the URL named one.
    public let port: Int?
    /// A path the store is served under behind a proxy (`/s3`), or empty.
    public let basePath: String

    /// Parses `http://HOST[:PORT][/PATH]` or `https://...`. User names, passwords, queries
    /// and fragments are refused: credentials never travel in a URL.
    public init(parsing text: String) throws(S3Error) {
        func invalid(_ why: String) -> S3Error {
            S3Error(.invalidLocation, operation: "use the endpoint", reason: "\"\(Self.redacted(text))\" is not an S3 endpoint URL: \(why)")
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https" } else if lower.hasPrefix("http://") { scheme = "http" } else {
            throw invalid("it must start with http:// or https://")
        }
        let rest = text.dropFirst(scheme.count + 3)
        guard !rest.contains("?") && !rest.contains("#") else { throw invalid("it cannot have a query or a fragment") }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        guard !authority.contains("@") else {
            throw invalid("it cannot hold a user name or password; give credentials through AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or a profile")
        }
        var host = String(authority)
        var port: Int?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw invalid("an IPv6 address needs its closing ']'") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) ?? -1 } else if !after.isEmpty { throw invalid("unexpected text after the IPv6 address") }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            port = Int(host[host.index(after: colon)...]) ?? -1
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        if let port, !(1...65535).contains(port) { throw invalid("the port must be a number from 1 to 65535") }
        while path.hasSuffix("/") { path.removeLast() }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.basePath = path
    }

    /// AWS's own endpoint for a region: `https://s3.REGION.amazonaws.com`.
    public static func aws(region: String) -> S3Endpoint {
        // The text is well formed by construction.
        (try? S3Endpoint(parsing: "https://s3.\(region).amazonaws.com"))!
    }

    /// True for AWS's own S3 endpoints (`*.amazonaws.com`), where buckets are addressed
    /// as host names (virtual-hosted style).
    public var isAWS: Bool { host.hasSuffix(".amazonaws.com") }

    /// The port connections go to.
    public var effectivePort: Int { port ?? (scheme == "https" ? 443 : 80) }

    /// The `Host` header for `host`: with the port only when it is not the scheme's default.
    func hostHeader(_ host: String) -> String {
        guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    /// `http://127.0.0.1:8333`, `https://s3.us-east-1.amazonaws.com`.
    public var description: String {
        "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(basePath)"
    }

    /// The URL with any `user:password@` part removed, for messages about a URL refused
    /// for holding one.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let end = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<end].lastIndex(of: "@") else { return text }
        return String(text[..<scheme.upperBound]) + "<credentials>" + String(rest[at...])
    }
}
