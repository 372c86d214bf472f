import Crypto
import Foundation
import NIOCore

/// The digests an upload sends so the store checks what it received: SHA-256 (signed, as
/// `x-amz-content-sha256`) and MD5 (`Content-MD5`, which also is the ETag of a single PUT).
struct S3Digest {
    /// Lower-case hex SHA-256.
    let sha256: String
    /// Lower-case hex MD5.
    let md5: String
    /// Base64 MD5, for `Content-MD5`.
    let md5Base64: String

    /// Hashes the readable bytes of `buffer` without copying them.
    init(_ buffer: ByteBuffer) {
        var sha = SHA256()
        var md5 = Insecure.MD5()
        buffer.withUnsafeReadableBytes { bytes in
            sha.update(bufferPointer: bytes)
            md5.update(bufferPointer: bytes)
        }
        let md5Digest = Array(md5.finalize())
        self.sha256 = SigV4Signer.hex(sha.finalize())
        self.md5 = SigV4Signer.hex(md5Digest)
        self.md5Base64 = Data(md5Digest).base64EncodedString()
    }

    /// The SHA-256 of the readable bytes of `buffer`, in hex.
    static func sha256(_ buffer: ByteBuffer) -> String {
        var sha = SHA256()
        buffer.withUnsafeReadableBytes { sha.update(bufferPointer: $0) }
        return SigV4Signer.hex(sha.finalize())
    }
}
