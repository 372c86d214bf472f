import NIOSSL

/// How a connection speaks TLS: what it trusts, which certificate it shows, which name
/// it expects. The `redis-cli` options map onto it: `--cacert`, `--cacertdir`, `--cert`,
/// `--key`, `--sni`, `--insecure`.
public struct RedisTLSConfiguration: Sendable, Hashable {
    /// How much of the server's certificate is checked.
    public enum Verification: Sendable, Hashable {
        /// Signed by a trusted CA, in its validity period, and naming the host (or ``serverName``).
        case full
        /// Signed by a trusted CA and in its validity period; any name.
        case noHostname
        /// Nothing checked (`--insecure`): anyone in the middle can read and change the traffic.
        case none
    }

    /// What is checked of the server's certificate.
    public var verification: Verification
    /// A PEM file of trusted CA certificates (`--cacert`); nil with no ``caDirectory``
    /// trusts the system's CAs.
    public var caFile: String?
    /// A folder of hashed CA certificates (`--cacertdir`, as `openssl rehash` makes it).
    public var caDirectory: String?
    /// The client certificate (PEM, `--cert`), for servers with `tls-auth-clients yes`.
    public var certificateFile: String?
    /// The client certificate's private key (PEM, `--key`).
    public var keyFile: String?
    /// The name sent in SNI and checked against the certificate (`--sni`); nil uses the
    /// host when it is a name, and checks the IP address when it is one.
    public var serverName: String?

    /// Creates a TLS configuration; the defaults verify fully against the system's CAs.
    public init(verification: Verification = .full, caFile: String? = nil, caDirectory: String? = nil,
                certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.verification = verification
        self.caFile = caFile
        self.caDirectory = caDirectory
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }

    /// The NIOSSL context for these settings; unreadable files throw
    /// ``RedisClientError/Kind/tlsFailed`` naming the file and the server.
    func makeContext(for endpoint: RedisEndpoint) throws(RedisClientError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .full: tls.certificateVerification = .fullVerification
        case .noHostname: tls.certificateVerification = .noHostnameVerification
        case .none: tls.certificateVerification = .none
        }
        if let caFile { tls.trustRoots = .file(caFile) }
        if let caDirectory {
            if caFile == nil { tls.trustRoots = .file(caDirectory) } else { tls.additionalTrustRoots = [.file(caDirectory)] }
        }
        guard (certificateFile == nil) == (keyFile == nil) else {
            throw RedisClientError(.tlsFailed,
                "cannot use TLS with \(endpoint): a client certificate needs both --cert FILE and --key FILE", endpoint: endpoint)
        }
        if let certificateFile, let keyFile {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            } catch {
                throw RedisClientError(.tlsFailed,
                    "cannot use TLS with \(endpoint): cannot read the client certificate \(certificateFile) (\(error))",
                    endpoint: endpoint, underlying: error)
            }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw RedisClientError(.tlsFailed,
                    "cannot use TLS with \(endpoint): cannot read the client key \(keyFile) (\(error))",
                    endpoint: endpoint, underlying: error)
            }
        }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            let files = [caFile, caDirectory].compactMap { $0 }
            let what = files.isEmpty ? "the system's CA certificates" : files.joined(separator: " and ")
            throw RedisClientError(.tlsFailed, "cannot use TLS with \(endpoint): cannot load \(what) (\(error))",
                                   endpoint: endpoint, underlying: error)
        }
    }
}
