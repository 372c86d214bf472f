/// A key as the drill names it: its database and its bytes.
public struct DrillKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The database number.
    public let database: Int
    /// The key's bytes.
    public let key: [UInt8]

    /// Creates a key name.
    public init(database: Int, key: [UInt8]) {
        self.database = database
        self.key = key
    }

    public static func < (a: DrillKey, b: DrillKey) -> Bool {
        a.database != b.database ? a.database < b.database : a.key.lexicographicallyPrecedes(b.key)
    }

    /// `db0:"key"`, binary bytes as \xNN, long keys shortened.
    public var description: String {
        var text = ""
        for b in key.prefix(120) {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") { text.unicodeScalars.append(Unicode.Scalar(b)) }
            else { text += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16) }
        }
        return "db\(database):\"\(text)\"" + (key.count > 120 ? "... (\(key.count) bytes)" : "")
    }
}

/// One key on which the restore and the live data set at the mark disagree.
public struct DrillDifference: Sendable, Hashable {
    /// How they disagree.
    public enum Reason: String, Sendable, Hashable {
        /// The live server had the key at the mark; the restore does not (and it had no
        /// expiry that passed since).
        case missingOnRestore = "missing on restore"
        /// The restore has a key the live server did not have at the mark.
        case extraOnRestore = "extra on restore"
        /// Same type, another value.
        case differentValue = "different value"
        /// Another type.
        case differentType = "different type"
        /// An expiry on one side only, or expiries further apart than the tolerance.
        case differentExpiry = "different TTL"
    }

    /// The key.
    public let key: DrillKey
    /// How.
    public let reason: Reason
    /// Details for people: the two types, the two expiries.
    public let detail: String?
}

/// What a restore drill found.
public struct ArchiveDrillReport: Sendable {
    /// The drill's answer.
    public enum Verdict: String, Sendable, Hashable {
        /// The restore equals the live data set at the mark.
        case equal
        /// They differ: ``ArchiveDrillReport/differences`` lists the first keys.
        case different
        /// The live data set could not be captured within the allowed pause: nothing was
        /// restored, nothing is proven either way.
        case inconclusive
    }

    /// The answer.
    public var verdict: Verdict
    /// Why the drill is inconclusive, when it is.
    public var inconclusiveReason: String?
    /// The mark's name.
    public var markName: String
    /// The mark's key (`redkeep:mark:NAME`), written on the live server and left there.
    public var markKey: String
    /// When the mark was written (unix seconds, this host's clock).
    public var markedAt: Double
    /// Where the archive holds the mark: `GEN:STREAM:OFFSET`, the end of the mark's write
    /// (what `replay-until --offset` takes); nil when the drill stopped before.
    public var markPosition: String?
    /// How long the live server's writes were held by `CLIENT PAUSE WRITE`, seconds: from
    /// sending the pause to the answer of `CLIENT UNPAUSE` (an upper bound).
    public var writesHeld: Double
    /// Keys captured on the live server at the mark.
    public var keysAtMark: Int
    /// Keys read from the restored server.
    public var keysRestored: Int
    /// Keys compared (the union of both sides, less those expired since the mark).
    public var keysCompared: Int
    /// Keys that had an expiry which passed between the mark and the comparison: absent
    /// from the restore as they should be, so not counted as differences.
    public var expiredSinceMark: Int
    /// Every difference found.
    public var differenceCount: Int
    /// The first differences in key order (database, then bytes), at most the `show` option.
    public var differences: [DrillDifference]
    /// Seconds spent waiting for the collector to archive the mark.
    public var waitedForArchive: Double
    /// What the restore did (nil: the drill stopped before restoring).
    public var restore: RestoreReport?
    /// Where the restore went, for people.
    public var destination: String?
    /// The whole drill, seconds.
    public var duration: Double

    /// True when the restore equals the live data set at the mark.
    public var isEqual: Bool { verdict == .equal }
}
