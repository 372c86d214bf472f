import Operations
import RESP

extension ArchiveCommand {
    /// `archive log|timeline DIR --base GEN`: the keys of a generation's RDB base.
    func baseKeys(_ base: String, _ store: any ArchiveStore, _ location: SourceLocation) async throws -> RESPValue {
        let pattern = key, limit = self.limit
        let listing = try await ArchiveIO.run { () throws(ArchiveError) -> BaseKeyListing in
            let index = try ArchiveIndex.read(store)
            let gen: Int
            if base.lowercased() == "latest" {
                guard let last = index.generations.last else {
                    throw ArchiveError(.invalidRequest, "the archive \(store.location) holds no base yet")
                }
                gen = last.gen
            } else {
                guard let n = Int(base), n >= 1 else {
                    throw ArchiveError(.invalidRequest, "--base takes a generation number (as archive timeline lists them) or latest, not \"\(base)\"")
                }
                gen = n
            }
            return try BaseKeyListing.list(index, generation: gen, pattern: pattern, limit: limit)
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
}
