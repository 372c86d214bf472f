import Operations
import RESP

/// `archive log|timeline DIR --base GEN`: the keys of a generation's RDB base, streamed
/// from the store (type, encoding, elements, bytes, expiry).
func archiveBaseKeys(_ base: String, _ store: any ArchiveStore, pattern: String?, limit: Int,
                     at location: SourceLocation) async throws -> RESPValue {
    let listing: BaseKeyListing
    do {
        listing = try await ArchiveIO.run { () throws(ArchiveError) -> BaseKeyListing in
            let index = try ArchiveIndex.read(store)
            let gen: Int
            if base.lowercased() == "latest" {
                guard let last = index.generations.last else {
                    throw ArchiveError(.invalidRequest, "the archive \(store.location) holds no base yet")
                }
                gen = last.gen
            } else {
                guard let n = Int(base), (1...99_999_999).contains(n) else {
                    throw ArchiveError(.invalidRequest, "--base takes a generation number (as archive timeline lists them) or latest, not \"\(base.prefix(80))\"")
                }
                gen = n
            }
            return try BaseKeyListing.list(index, generation: gen, pattern: pattern, limit: limit)
        }
    } catch {
        throw ShellError.from(error, doing: "archive --base \(base.prefix(80))", at: location)
    }
    var fields: [(String, RESPValue)] = [
        ("generation", .integer(Int64(listing.generation))),
        ("keys_in_base", .integer(Int64(listing.totalKeys))),
    ]
    if pattern != nil { fields.append(("matching", .integer(Int64(listing.matchingKeys)))) }
    fields.append(("keys", .array(listing.keys.map { k in
        .report([("db", .integer(Int64(k.database))), ("key", .text(k.key)), ("type", .text(k.type)), ("encoding", .text(k.encoding)),
                 ("elements", .integer(Int64(k.elements))), ("bytes", .integer(Int64(k.bytes))),
                 ("expires", k.expiresAtMs.map { .text(TimeFormat.text(Double($0) / 1000)) } ?? .text("never"))])
    })))
    if listing.matchingKeys > listing.keys.count {
        fields.append(("truncated", .text("\(listing.matchingKeys - listing.keys.count) more keys not shown (--limit \(limit))")))
    }
    return .report(fields)
}
