/// Every value type an RDB can hold, by its type byte (redis/redis src/rdb.h
/// `RDB_TYPE_*`, and Valkey's). The byte names an encoding as well as a data type: the
/// same hash is type 4 as a hash table and 16 as a listpack.
///
/// Byte 22 means two things: a Redis 7.4 release candidate's hash with field TTLs, and
/// Valkey 9's hash with field expiry (`RDB_TYPE_HASH_2`, in `VALKEY080` files). The magic
/// of the file decides (``init(byte:valkey:)``).
public enum RDBValueType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 0 to 7: plain encodings (one string per element; zset with text scores 3, binary
    /// scores 5) and module values (6 pre-GA, 7 with annotations).
    case string, list, set, zset, hash, zset2, modulePreGA, module2
    /// 9 to 14: zipmap, ziplists, intset, and the quicklist of ziplists (Redis 3.2 to 6).
    case hashZipmap, listZiplist, setIntset, zsetZiplist, hashZiplist, listQuicklist
    /// 15 to 19: streams (1 and 2), listpacks, and the quicklist of listpacks (Redis 7.0).
    case streamListpacks, hashListpack, zsetListpack, listQuicklist2, streamListpacks2
    /// 20 and 21: set listpack and streams with consumer active times (Redis 7.2).
    case setListpack, streamListpacks3
    /// Redis 7.4 release candidates: hash with field TTLs (absolute), 22.
    case hashMetadataPreGA
    /// Redis 7.4 release candidates: listpack hash with field TTLs, 23.
    case hashListpackExPreGA
    /// Redis 7.4: hash table with field TTLs (relative to a minimum expiry), 24.
    case hashMetadata
    /// Redis 7.4: listpack hash with field TTLs, 25.
    case hashListpackEx
    /// Valkey 9: hash with field expiry, 22 in a `VALKEY` file.
    case valkeyHash2

    /// The type of `byte`, or nil for a byte that is no value type (an opcode, or unknown).
    /// `valkey` is true for a file with the `VALKEY` magic.
    public init?(byte: UInt8, valkey: Bool = false) {
        switch byte {
        case 0: self = .string
        case 1: self = .list
        case 2: self = .set
        case 3: self = .zset
        case 4: self = .hash
        case 5: self = .zset2
        case 6: self = .modulePreGA
        case 7: self = .module2
        case 9: self = .hashZipmap
        case 10: self = .listZiplist
        case 11: self = .setIntset
        case 12: self = .zsetZiplist
        case 13: self = .hashZiplist
        case 14: self = .listQuicklist
        case 15: self = .streamListpacks
        case 16: self = .hashListpack
        case 17: self = .zsetListpack
        case 18: self = .listQuicklist2
        case 19: self = .streamListpacks2
        case 20: self = .setListpack
        case 21: self = .streamListpacks3
        case 22: self = valkey ? .valkeyHash2 : .hashMetadataPreGA
        case 23 where !valkey: self = .hashListpackExPreGA
        case 24 where !valkey: self = .hashMetadata
        case 25 where !valkey: self = .hashListpackEx
        default: return nil
        }
    }

    /// The type byte.
    public var byte: UInt8 {
        switch self {
        case .string: 0
        case .list: 1
        case .set: 2
        case .zset: 3
        case .hash: 4
        case .zset2: 5
        case .modulePreGA: 6
        case .module2: 7
        case .hashZipmap: 9
        case .listZiplist: 10
        case .setIntset: 11
        case .zsetZiplist: 12
        case .hashZiplist: 13
        case .listQuicklist: 14
        case .streamListpacks: 15
        case .hashListpack: 16
        case .zsetListpack: 17
        case .listQuicklist2: 18
        case .streamListpacks2: 19
        case .setListpack: 20
        case .streamListpacks3: 21
        case .hashMetadataPreGA, .valkeyHash2: 22
        case .hashListpackExPreGA: 23
        case .hashMetadata: 24
        case .hashListpackEx: 25
        }
    }

    /// The data type as Redis's TYPE command names it.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .list, .listZiplist, .listQuicklist, .listQuicklist2: "list"
        case .set, .setIntset, .setListpack: "set"
        case .zset, .zset2, .zsetZiplist, .zsetListpack: "zset"
        case .hash, .hashZipmap, .hashZiplist, .hashListpack, .hashMetadataPreGA, .hashListpackExPreGA,
             .hashMetadata, .hashListpackEx, .valkeyHash2: "hash"
        case .streamListpacks, .streamListpacks2, .streamListpacks3: "stream"
        case .modulePreGA, .module2: "module"
        }
    }

    /// The oldest RDB version that has this type byte: a DUMP payload stamped with an
    /// older version would be refused or misread (listpacks came with RDB 10, the set
    /// listpack with 11, hash field TTLs with 12, Valkey's hash with field expiry with 80).
    public var minimumVersion: Int {
        switch self {
        case .string, .list, .set, .zset, .hash: 1
        case .hashZipmap, .listZiplist, .setIntset, .zsetZiplist, .hashZiplist: 2
        case .listQuicklist: 7
        case .zset2, .modulePreGA, .module2: 8
        case .streamListpacks: 9
        case .hashListpack, .zsetListpack, .listQuicklist2, .streamListpacks2: 10
        case .setListpack, .streamListpacks3: 11
        case .hashMetadataPreGA, .hashListpackExPreGA, .hashMetadata, .hashListpackEx: 12
        case .valkeyHash2: 80
        }
    }

    /// True for the types only Redis (not Valkey) reads: hash field TTLs of Redis 7.4.
    public var isRedisOnly: Bool {
        switch self {
        case .hashMetadataPreGA, .hashListpackExPreGA, .hashMetadata, .hashListpackEx: true
        default: false
        }
    }

    /// `hash (listpack, 16)`.
    public var description: String { "\(typeName) (\(encodingName), \(byte))" }

    /// The encoding, for listings: `listpack`, `quicklist2`, `intset`...
    public var encodingName: String {
        switch self {
        case .string: "string"
        case .list, .set, .hash: "plain"
        case .zset: "plain, text scores"
        case .zset2: "plain"
        case .modulePreGA: "module pre-GA"
        case .module2: "module"
        case .hashZipmap: "zipmap"
        case .listZiplist, .zsetZiplist, .hashZiplist: "ziplist"
        case .setIntset: "intset"
        case .listQuicklist: "quicklist"
        case .listQuicklist2: "quicklist2"
        case .streamListpacks: "listpacks"
        case .streamListpacks2: "listpacks2"
        case .streamListpacks3: "listpacks3"
        case .hashListpack, .zsetListpack, .setListpack: "listpack"
        case .hashMetadataPreGA: "field TTLs pre-GA"
        case .hashListpackExPreGA: "listpack with TTLs pre-GA"
        case .hashMetadata: "field TTLs"
        case .hashListpackEx: "listpack with TTLs"
        case .valkeyHash2: "Valkey field expiry"
        }
    }
}
