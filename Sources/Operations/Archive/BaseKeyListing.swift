import RDB

/// The keys of a generation's RDB base, read from the archive's store in ranges (never
/// whole in memory): "was this key in yesterday's base?" (`archive log --base GEN`).
public struct BaseKeyListing: Sendable {
    /// One key.
    public struct Key: Sendable, Hashable {
        /// Its database.
        public var database: Int
        /// The key, printable (non-printable bytes as \xNN, quoted).
        public var key: String
        /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
        public var type: String
        /// The encoding in the RDB (`listpack`, `quicklist2`, ...).
        public var encoding: String
        /// Elements (a string: its bytes; a stream: its entries).
        public var elements: Int
        /// Bytes of its value in the base.
        public var bytes: Int
        /// Its absolute expiry, unix milliseconds, or nil.
        public var expiresAtMs: Int64?
    }

    /// The generation listed.
    public var generation: Int
    /// Keys matching the pattern, in file order, at most the limit.
    public var keys: [Key] = []
    /// Every key the base holds.
    public var totalKeys = 0
    /// Keys matching the pattern (more than listed when the limit cut the listing).
    public var matchingKeys = 0

    /// Lists the keys of generation `gen`'s base matching `pattern` (a Redis glob, nil:
    /// every key), at most `limit` of them (all are still counted). Blocking: call it
    /// off the event loops. Throws ``ArchiveError`` for an unknown generation, an AOF base
    /// (commands, not keys), or a base that does not read (naming the byte offset).
    public static func list(_ index: ArchiveIndex, generation gen: Int, pattern: String?, limit: Int) throws(ArchiveError) -> BaseKeyListing {
        guard let g = index.generations.first(where: { $0.gen == gen }) else {
            let known = index.generations.map { String($0.gen) }.joined(separator: ", ")
            throw ArchiveError(.invalidRequest, "the archive \(index.store.location) has no generation \(gen) (it has: \(known.isEmpty ? "none" : known))")
        }
        let name = index.store.describe(g.path)
        guard g.format == .rdb else {
            throw ArchiveError(.invalidRequest, "the base of generation \(gen) (\(name)) is an AOF base (commands, not an RDB): archive log --from/--to lists commands; replay-until --write-aof gives a server to look into")
        }
        var listing = BaseKeyListing(generation: gen)
        do throws(RDBError) {
            let reader = try RDBReader(source: ArchiveRDBSource(store: index.store, key: g.path, count: g.size))
            while let entry = try reader.next() {
                guard case .key(let k) = entry else { continue }
                listing.totalKeys += 1
                let text = String(decoding: k.key, as: UTF8.self)
                if let pattern, !Glob.matches(pattern, text) { continue }
                listing.matchingKeys += 1
                guard listing.keys.count < limit else { continue }
                let summary = try k.summary()
                listing.keys.append(Key(database: k.database, key: k.keyDescription, type: summary.typeName, encoding: summary.encoding,
                                        elements: summary.count, bytes: summary.serializedBytes, expiresAtMs: k.expiresAtMs))
            }
        } catch {
            throw ArchiveError(error.kind == .io ? .io : .damaged, "the base of generation \(gen) (\(name)) does not read at byte \(error.offset): \(error.reason)", object: name)
        }
        return listing
    }
}
