/// A value decoded from its RDB serialization. Integers stored as integers (int-encoded
/// strings, intsets, ziplist and listpack integers) come back as their decimal text, as
/// Redis returns them.
public enum RDBValue: Sendable, Hashable {
    /// A string.
    case string([UInt8])
    /// A list's elements, head first.
    case list([[UInt8]])
    /// A set's members, in the order stored.
    case set([[UInt8]])
    /// A hash's fields, in the order stored.
    case hash([RDBHashField])
    /// A sorted set's members with their scores, in the order stored.
    case sortedSet([RDBScoredMember])
    /// A stream.
    case stream(RDBStream)
    /// A module's value: only its module type is known; its bytes were walked, not read.
    case module(RDBModuleValue)

    /// The number of elements (a string counts its bytes; a stream its entries).
    public var count: Int {
        switch self {
        case .string(let s): s.count
        case .list(let l): l.count
        case .set(let s): s.count
        case .hash(let h): h.count
        case .sortedSet(let z): z.count
        case .stream(let s): s.entries.count
        case .module: 0
        }
    }
}

/// One field of a hash, with its own expiry when the hash has field TTLs (Redis 7.4) or
/// field expiry (Valkey 9).
public struct RDBHashField: Sendable, Hashable {
    /// The field name.
    public var field: [UInt8]
    /// Its value.
    public var value: [UInt8]
    /// The absolute expiry in Unix milliseconds, or nil.
    public var expiresAtMs: UInt64?

    /// Creates a field.
    public init(field: [UInt8], value: [UInt8], expiresAtMs: UInt64? = nil) {
        self.field = field
        self.value = value
        self.expiresAtMs = expiresAtMs
    }
}

/// A sorted set member and its score.
public struct RDBScoredMember: Sendable, Hashable {
    /// The member.
    public var member: [UInt8]
    /// Its score.
    public var score: Double

    /// Creates a member.
    public init(member: [UInt8], score: Double) {
        self.member = member
        self.score = score
    }
}

/// A stream entry ID, `ms-seq`.
public struct RDBStreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds part.
    public var ms: UInt64
    /// Sequence part.
    public var seq: UInt64

    /// Creates an ID.
    public init(ms: UInt64, seq: UInt64) {
        self.ms = ms
        self.seq = seq
    }

    /// `1700000000000-0`.
    public var description: String { "\(ms)-\(seq)" }

    /// Orders by ms, then seq.
    public static func < (a: RDBStreamID, b: RDBStreamID) -> Bool { (a.ms, a.seq) < (b.ms, b.seq) }
}

/// A stream: its live entries, its IDs and its consumer groups.
public struct RDBStream: Sendable, Hashable {
    /// One entry: its ID and field/value pairs.
    public struct Entry: Sendable, Hashable {
        /// The ID.
        public var id: RDBStreamID
        /// Field/value pairs, in order (no expiry).
        public var fields: [RDBHashField]
    }

    /// A pending entry of a group: delivered, not yet acknowledged.
    public struct Pending: Sendable, Hashable {
        /// The entry ID.
        public var id: RDBStreamID
        /// When it was last delivered, Unix ms.
        public var deliveryTimeMs: UInt64
        /// How many times it was delivered.
        public var deliveryCount: UInt64
    }

    /// A consumer of a group.
    public struct Consumer: Sendable, Hashable {
        /// Its name.
        public var name: [UInt8]
        /// When it was last seen, Unix ms.
        public var seenTimeMs: UInt64
        /// When it last read successfully, Unix ms (RDB type 21 and later; else nil).
        public var activeTimeMs: UInt64?
        /// The IDs of the pending entries it owns.
        public var pending: [RDBStreamID]
    }

    /// A consumer group.
    public struct Group: Sendable, Hashable {
        /// Its name.
        public var name: [UInt8]
        /// The last ID delivered to it.
        public var lastDeliveredID: RDBStreamID
        /// Its read counter (RDB type 19 and later; else nil).
        public var entriesRead: UInt64?
        /// Its pending entries list.
        public var pending: [Pending]
        /// Its consumers.
        public var consumers: [Consumer]
    }

    /// The live entries, oldest first (deleted entries are left out).
    public var entries: [Entry]
    /// The length the stream claims.
    public var length: UInt64
    /// The last ID ever added.
    public var lastID: RDBStreamID
    /// The first live ID (type 19 and later).
    public var firstID: RDBStreamID?
    /// The largest deleted ID (type 19 and later).
    public var maxDeletedID: RDBStreamID?
    /// How many entries were ever added (type 19 and later).
    public var entriesAdded: UInt64?
    /// The consumer groups.
    public var groups: [Group]
}

/// A module value: which module type wrote it.
public struct RDBModuleValue: Sendable, Hashable {
    /// The module type's 9-character name (`ReJSON-RL`), from its 64-bit ID.
    public var typeName: String
    /// The module's encoding version (the ID's low 10 bits).
    public var encodingVersion: Int

    /// The name and version packed in a module type ID: nine 6-bit characters, then
    /// 10 bits of encoding version (module.c `moduleTypeNameByID`).
    public init(moduleID: UInt64) {
        let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var name: [UInt8] = []
        for k in 0..<9 {
            let shift = UInt64(64 - 6 * (k + 1))
            name.append(charset[Int((moduleID >> shift) & 63)])
        }
        typeName = String(decoding: name, as: UTF8.self)
        encodingVersion = Int(moduleID & 1023)
    }
}

/// What a listing shows of a key's value without its content.
public struct RDBValueSummary: Sendable, Hashable {
    /// `string`, `list`, `set`, `zset`, `hash`, `stream`, `module`.
    public var typeName: String
    /// The encoding in the RDB (`listpack`, `quicklist2`...).
    public var encoding: String
    /// Elements (string: bytes; stream: entries; module: 0).
    public var count: Int
    /// Bytes of the value's serialization in the RDB.
    public var serializedBytes: Int
}
