/// The one percent-encoding SigV4 and S3 use: every byte of the UTF-8 form is kept when it
/// is unreserved (`A-Z a-z 0-9 - . _ ~`) and written `%XX` (upper-case hex) otherwise.
///
/// The same function builds the URL that is sent and the canonical request that is
/// signed, so the two cannot disagree. S3 encodes a key once (no double encoding, no
/// `.`/`..` normalisation), unlike other AWS services.
public enum S3URIEncoding {
    /// Encodes a path, keeping its `/` separators: `/bucket/a b/ሴ` -> `/bucket/a%20b/%E1%88%B4`.
    public static func path(_ path: String) -> String { encode(path, keepSlash: true) }

    /// Encodes a query parameter name or value; `/` becomes `%2F`.
    public static func component(_ value: String) -> String { encode(value, keepSlash: false) }

    /// The canonical query string: names and values encoded, pairs sorted by encoded
    /// name then value, joined with `&`; a parameter without a value is `name=`.
    public static func query(_ parameters: [(name: String, value: String)]) -> String {
        parameters
            .map { (component($0.name), component($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func encode(_ text: String, keepSlash: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
