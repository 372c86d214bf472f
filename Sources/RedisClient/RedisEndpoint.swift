/// Where a Redis server listens: a TCP host and port, or a unix socket path.
public enum RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// A TCP address. `host` is a name, an IPv4 address or an IPv6 address (no brackets).
    case tcp(host: String, port: Int)
    /// A unix domain socket.
    case unix(path: String)

    /// `127.0.0.1:6379`, `[::1]:6379` or the socket path: what error messages name.
    public var description: String {
        switch self {
        case .tcp(let host, let port):
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path):
            return path
        }
    }

    /// True for a TCP address.
    public var isTCP: Bool {
        if case .tcp = self { return true }
        return false
    }

    /// Parses `host:port`, `[ipv6]:port`, a bare host (port 6379) or a path with a `/`.
    public init(parsing text: String) throws(RedisClientError) {
        if text.hasPrefix("/") || text.hasPrefix("./") || text.hasSuffix(".sock") {
            self = .unix(path: text)
            return
        }
        var host = text
        var port = 6379
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw RedisClientError(.invalidAddress, "invalid address \"\(text)\": missing ']' after the IPv6 address")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { port = try Self.port(String(rest.dropFirst()), in: text) }
            else if !rest.isEmpty {
                throw RedisClientError(.invalidAddress, "invalid address \"\(text)\": expected ':PORT' after ']'")
            }
        } else if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
            host = String(text[..<colon])
            port = try Self.port(String(text[text.index(after: colon)...]), in: text)
        }
        guard !host.isEmpty else {
            throw RedisClientError(.invalidAddress, "invalid address \"\(text)\": no host")
        }
        self = .tcp(host: host, port: port)
    }

    static func port(_ text: String, in whole: String) throws(RedisClientError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw RedisClientError(.invalidAddress, "invalid port \"\(text)\" in \"\(whole)\": expected 1 to 65535")
        }
        return port
    }
}
