/// What a store says about one object (HEAD, or one entry of a listing).
public struct S3ObjectInfo: Sendable, Hashable {
    /// The full key.
    public var key: String
    /// Its size in bytes.
    public var size: Int
    /// Its ETag without quotes: the MD5 in hex for a single PUT, `MD5-PARTS` for a
    /// multipart upload.
    public var etag: String
    /// `Last-Modified` as the store wrote it, if it did.
    public var lastModified: String?

    /// Creates an object description.
    public init(key: String, size: Int, etag: String, lastModified: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// A stored object, as confirmed by the store.
public struct S3PutResult: Sendable, Hashable {
    /// The key written.
    public var key: String
    /// The bytes written.
    public var size: Int
    /// The ETag the store answered, without quotes.
    public var etag: String
    /// The SHA-256 of the bytes, in hex, which the store checked on receipt
    /// (`x-amz-content-sha256`) for a single PUT and for each part.
    public var sha256: String
    /// The number of parts: 1 for a single PUT.
    public var parts: Int
}

/// One page of a listing.
public struct S3ListPage: Sendable, Hashable {
    /// The objects of this page, in key order.
    public var objects: [S3ObjectInfo]
    /// Pass this to the next call to get the next page; nil on the last page.
    public var continuationToken: String?
}

extension String {
    /// The ETag without its surrounding quotes.
    var unquotedETag: String {
        var text = Substring(self)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 { text = text.dropFirst().dropLast() }
        return String(text)
    }
}
