/// The keys every S3 request is signed with: an access key id, its secret, and for
/// temporary credentials a session token. Printing them shows the access key id only.
public struct S3Credentials: Sendable, Hashable, CustomStringConvertible {
    /// `AKIA...`: not a secret (it appears in every request), so it may be shown.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: S3Secret
    /// The session token of temporary (STS) credentials, sent as `x-amz-security-token`.
    public var sessionToken: S3Secret?
    /// Where the keys were found, for messages: `environment`, `profile "ops" in /root/.aws/credentials`.
    public var source: String

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: S3Secret, sessionToken: S3Secret? = nil, source: String = "given") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    /// `access key AKIA... (from environment)`: never the secret or the token.
    public var description: String { "access key \(accessKeyID) (from \(source))" }
}
