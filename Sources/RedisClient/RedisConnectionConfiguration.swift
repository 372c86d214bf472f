/// How to reach and set up one connection: where, who, which database, which protocol,
/// and how long to wait.
public struct RedisConnectionConfiguration: Sendable {
    /// Where the server listens.
    public var endpoint: RedisEndpoint
    /// The ACL user for AUTH; nil means the default user.
    public var username: String?
    /// The password for AUTH; nil sends no AUTH.
    public var password: RedisSecret?
    /// The database to SELECT after connecting (0 sends nothing).
    public var database: Int
    /// 2 speaks RESP2 (no handshake); 3 sends `HELLO 3` (with AUTH in it when needed).
    public var protocolVersion: Int
    /// How long to wait for the socket to connect.
    public var connectTimeout: Duration
    /// How long to wait for a reply before giving up and closing; nil waits forever
    /// (blocking commands such as BLPOP 0 need that).
    public var commandTimeout: Duration?
    /// Sent as CLIENT SETNAME (or in HELLO) so operators can spot redkeep in CLIENT LIST.
    public var clientName: String?
    /// The most bytes one reply may take while it arrives. A server that announces a huge
    /// aggregate and streams forever is cut off here with a protocol error naming the byte
    /// offset, instead of filling memory. Default 1 GiB.
    public var maxReplyBytes: Int = Self.defaultMaxReplyBytes

    /// 1 GiB: above Redis's largest bulk string (`proto-max-bulk-len`, 512 MB) with room
    /// for large aggregates.
    public static let defaultMaxReplyBytes = 1 << 30

    /// Creates a configuration for `endpoint` with defaults: RESP2, database 0,
    /// 5 s to connect, 30 s per command.
    public init(endpoint: RedisEndpoint, username: String? = nil, password: RedisSecret? = nil,
                database: Int = 0, protocolVersion: Int = 2,
                connectTimeout: Duration = .seconds(5), commandTimeout: Duration? = .seconds(30),
                clientName: String? = nil) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.protocolVersion = protocolVersion
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.clientName = clientName
    }

    /// Parses `redis://[user:pass@]host[:port][/db]`, `unix:///path/to.sock[?db=N]`,
    /// or the plain forms `host:port` and `/path/to.sock`.
    ///
    /// `rediss://` is refused with ``RedisClientError/Kind/tlsNotSupported``. User and
    /// password may be percent-encoded. Error messages show the URL with its password
    /// replaced by `<secret>`.
    public init(url: String) throws(RedisClientError) {
        let shown = Self.redacted(url)
        if url.hasPrefix("rediss://") {
            throw RedisClientError(.tlsNotSupported,
                "cannot use \(shown): TLS (rediss://) is not supported yet; use redis:// over a trusted network or an SSH/stunnel tunnel")
        }
        if url.hasPrefix("unix://") {
            var rest = String(url.dropFirst("unix://".count))
            var database = 0
            if let q = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: q)...]
                rest = String(rest[..<q])
                for item in query.split(separator: "&") where item.hasPrefix("db=") {
                    guard let n = Int(item.dropFirst(3)), n >= 0 else {
                        throw RedisClientError(.invalidAddress, "invalid database \"\(item.dropFirst(3))\" in \(shown)")
                    }
                    database = n
                }
            }
            guard rest.hasPrefix("/") else {
                throw RedisClientError(.invalidAddress, "invalid URL \(shown): expected unix:///absolute/path.sock")
            }
            self.init(endpoint: .unix(path: rest), database: database)
            return
        }
        guard url.hasPrefix("redis://") else {
            if url.contains("://") {
                throw RedisClientError(.invalidAddress,
                    "invalid URL \(shown): the scheme must be redis:// or unix:// (rediss:// is not supported yet)")
            }
            self.init(endpoint: try RedisEndpoint(parsing: url))
            return
        }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?
        var password: RedisSecret?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userinfo[..<colon], in: shown)
                username = user.isEmpty ? nil : user
                password = RedisSecret(try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], in: shown))
            } else if !userinfo.isEmpty {
                // redis://secret@host is how many tools pass a password alone.
                password = RedisSecret(try Self.percentDecoded(userinfo, in: shown))
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let n = Int(path), n >= 0 else {
                    throw RedisClientError(.invalidAddress, "invalid database \"\(path)\" in \(shown): expected a number")
                }
                database = n
            }
        }
        guard !rest.isEmpty else { throw RedisClientError(.invalidAddress, "invalid URL \(shown): no host") }
        self.init(endpoint: try RedisEndpoint(parsing: String(rest)), username: username,
                  password: password, database: database)
    }

    /// The URL with any password replaced by `<secret>`, for messages and history.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url.lastIndex(of: "@"), at > scheme.upperBound else {
            return url
        }
        let userinfo = url[scheme.upperBound..<at]
        guard let colon = userinfo.firstIndex(of: ":") else {
            return String(url[..<scheme.upperBound]) + "<secret>" + String(url[at...])
        }
        return String(url[..<colon]) + ":<secret>" + String(url[at...])
    }

    static func percentDecoded(_ text: Substring, in shown: String) throws(RedisClientError) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8.makeIterator()
        while let b = utf8.next() {
            if b == UInt8(ascii: "%") {
                guard let h = utf8.next(), let l = utf8.next(),
                      let hi = hexValue(h), let lo = hexValue(l) else {
                    throw RedisClientError(.invalidAddress, "invalid percent-encoding in the user or password of \(shown)")
                }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
