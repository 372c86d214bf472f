/// Where in object storage: a bucket and a key prefix, written `s3://BUCKET/PREFIX`.
///
/// The bucket name follows AWS's rules (3 to 63 characters: lower-case letters, digits,
/// `.` and `-`, starting and ending with a letter or digit, no `..`, not an IP address),
/// which every S3-compatible store accepts. The prefix is kept as written, without its
/// leading `/`; a prefix that names a folder usually ends with `/`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    /// The bucket.
    public let bucket: String
    /// The key prefix (`redkeep/prod/`), possibly empty.
    public let prefix: String

    /// The longest key S3 accepts, in UTF-8 bytes.
    public static let maximumKeyLength = 1024

    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    public init(parsing text: String) throws(S3Error) {
        func invalid(_ why: String) -> S3Error {
            S3Error(.invalidLocation, operation: "use", reason: "\"\(text)\" is not an s3:// location: \(why)")
        }
        guard text.lowercased().hasPrefix("s3://") else {
            throw invalid("it must start with s3:// (write s3://BUCKET/PREFIX)")
        }
        let rest = text.dropFirst(5)
        guard !rest.contains("?") && !rest.contains("#") else {
            throw invalid("'?' and '#' cannot be part of a bucket or key prefix")
        }
        let slash = rest.firstIndex(of: "/")
        let bucket = String(rest[..<(slash ?? rest.endIndex)])
        let prefix = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        guard !bucket.isEmpty else { throw invalid("the bucket name is missing (write s3://BUCKET/PREFIX)") }
        if let problem = Self.bucketNameProblem(bucket) { throw invalid(problem) }
        if let problem = Self.keyProblem(prefix, what: "the key prefix") { throw invalid(problem) }
        self.bucket = bucket
        self.prefix = prefix
    }

    /// A location from its parts, checked like a parsed one.
    public init(bucket: String, prefix: String = "") throws(S3Error) {
        try self.init(parsing: "s3://\(bucket)/\(prefix)")
    }

    /// The full key of `name` under the prefix: `prefix + name`.
    public func key(_ name: String) -> String { prefix + name }

    /// `s3://bucket/prefix`.
    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }

    /// Why `name` cannot be a bucket name, or nil when it can.
    public static func bucketNameProblem(_ name: String) -> String? {
        guard (3...63).contains(name.utf8.count) else {
            return "the bucket name \"\(name)\" has \(name.utf8.count) characters; bucket names have 3 to 63"
        }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        guard allowed else {
            return "the bucket name \"\(name)\" may only hold lower-case letters, digits, '.' and '-'"
        }
        guard let first = name.first, let last = name.last, first.isLetter || first.isNumber, last.isLetter || last.isNumber else {
            return "the bucket name \"\(name)\" must start and end with a letter or a digit"
        }
        guard !name.contains("..") else { return "the bucket name \"\(name)\" cannot hold \"..\"" }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) {
            return "the bucket name \"\(name)\" cannot be an IP address"
        }
        return nil
    }

    /// Why `key` cannot be (the start of) an object key, or nil when it can. Empty
    /// segments and `.`/`..` segments are refused: HTTP stacks and S3-compatible stores
    /// treat them differently, so such a key would not round-trip.
    public static func keyProblem(_ key: String, what: String = "the key") -> String? {
        if key.utf8.count > maximumKeyLength {
            return "\(what) has \(key.utf8.count) bytes; S3 keys have at most \(maximumKeyLength)"
        }
        if key.hasPrefix("/") { return "\(what) \"\(key)\" cannot start with '/'" }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "\(what) cannot hold control characters"
        }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment == "." || segment == ".." { return "\(what) \"\(key)\" cannot have a \"\(segment)\" segment" }
            if segment.isEmpty && index < segments.count - 1 { return "\(what) \"\(key)\" cannot hold \"//\"" }
        }
        return nil
    }
}
