import RedisClient

/// The TLS files of a Lab server, made by the Lab with `openssl`: the Lab's throwaway CA,
/// the server's certificate (for 127.0.0.1 and localhost, signed by that CA) and a client
/// certificate for servers that ask for one. Keys are 0600.
public struct LocalServerTLS: Sendable, Hashable {
    /// The Lab's CA certificate, which every Lab TLS server and client trusts.
    public let caFile: String
    /// The server's certificate (also its client certificate towards its master).
    public let certificateFile: String
    /// The server certificate's private key.
    public let keyFile: String
    /// A certificate for clients of this server (`tls-auth-clients`).
    public let clientCertificateFile: String
    /// The client certificate's private key.
    public let clientKeyFile: String

    /// How a client reaches the server: full verification against the Lab's CA, with the
    /// client certificate.
    public var clientConfiguration: RedisTLSConfiguration {
        RedisTLSConfiguration(verification: .full, caFile: caFile, certificateFile: clientCertificateFile,
                              keyFile: clientKeyFile)
    }
}

/// Whether a Lab TLS server demands client certificates (`tls-auth-clients`).
public enum LocalServerClientCertificates: String, Sendable {
    /// `tls-auth-clients yes`: a client without a certificate signed by the Lab's CA is refused.
    case required = "yes"
    /// `tls-auth-clients optional`: a certificate is checked when one is given.
    case optional = "optional"
    /// `tls-auth-clients no`.
    case none = "no"
}
