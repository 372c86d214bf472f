/// A whole RDB checked: everything a reader finds, or the first error with its offset.
/// Every value is decoded (LZF, listpacks, ziplists...), so damage inside a value's
/// packed bytes is found too, not only damage to the file's structure.
public struct RDBCheckReport: Sendable {
    /// Keys of one database.
    public struct Database: Sendable, Hashable {
        /// The database number.
        public var number: Int
        /// Keys by type name (`string`, `list`, ...).
        public var keysByType: [String: Int] = [:]
        /// Keys with an expiry.
        public var expiringKeys = 0
        /// Value bytes (serializations) of its keys.
        public var valueBytes = 0
        /// Every key.
        public var keys: Int { keysByType.values.reduce(0, +) }
    }

    /// The RDB version (0 when the header could not be read).
    public var version = 0
    /// True for a `VALKEY` magic.
    public var valkey = false
    /// Aux fields, in order, as text.
    public var aux: [(name: String, value: String)] = []
    /// Databases in order of first appearance.
    public var databases: [Database] = []
    /// Function libraries.
    public var functions = 0
    /// Notes on what was skipped (module values and aux data).
    public var notes: [String] = []
    /// The bytes of the RDB, when it ended well (an AOF tail may follow).
    public var length: Int?
    /// The trailer, when it ended well.
    public var checksum: RDBReader.Checksum?
    /// The first problem, if any.
    public var problem: RDBError?

    /// An empty report (no header read yet).
    public init() {}

    /// True when the RDB was read to its end with a good (or disabled) checksum.
    public var isValid: Bool { problem == nil && checksum != nil }
    /// Keys in every database.
    public var keys: Int { databases.reduce(0) { $0 + $1.keys } }
}

/// Reads a whole RDB into an ``RDBCheckReport``.
public enum RDBCheck {
    /// Checks the RDB in `source` (a dump.rdb, or an AOF base that is an RDB: reading
    /// stops at the RDB's end). Never throws: a problem is in the report.
    public static func check(_ source: any RDBByteSource, limits: RDBReader.Limits = .init(),
                             decodeValues: Bool = true) -> RDBCheckReport {
        var report = RDBCheckReport()
        do {
            let reader = try RDBReader(source: source, limits: limits)
            report.version = reader.version
            report.valkey = reader.valkey
            var current = 0
            func index(of db: Int) -> Int {
                if let i = report.databases.firstIndex(where: { $0.number == db }) { return i }
                report.databases.append(.init(number: db))
                return report.databases.count - 1
            }
            while let entry = try reader.next() {
                switch entry {
                case .aux(let name, let value):
                    report.aux.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
                case .selectDB(let db):
                    current = index(of: db)
                case .function:
                    report.functions += 1
                case .moduleAux(let note):
                    report.notes.append(note)
                case .slotImport(let job, let slots):
                    report.notes.append("slot import under way: job \(RDBText.quoted(job)), slots "
                                        + slots.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ","))
                case .resizeDB, .slotInfo:
                    break
                case .key(let key):
                    if report.databases.isEmpty { current = index(of: key.database) }
                    if decodeValues { _ = try key.value(limits: limits) }
                    if let note = key.moduleNote { report.notes.append("key \(key.keyDescription): \(note)") }
                    report.databases[current].keysByType[key.type.typeName, default: 0] += 1
                    if key.expiresAtMs != nil { report.databases[current].expiringKeys += 1 }
                    report.databases[current].valueBytes += key.serialization.count
                }
            }
            report.checksum = reader.checksum
            report.length = reader.endOffset
        } catch {
            report.problem = error
        }
        return report
    }
}

extension RDBReader {
    /// Reads all of `bytes` as an RDB, decoding every value, and swallows the
    /// ``RDBError`` that damaged input ends in: for a fuzz target, where anything but an
    /// error (a crash, a hang, a huge allocation) is a finding. Limits are small so a
    /// hostile length fails fast.
    public static func fuzz(_ bytes: UnsafeRawBufferPointer) {
        let source = RDBMemorySource(Array(bytes))
        _ = RDBCheck.check(source, limits: Limits(maximumValueBytes: 1 << 24, blockSize: 4096))
        // The payload builder and the listing's count too, on whatever keys the input holds.
        guard let reader = try? RDBReader(source: source, limits: Limits(maximumValueBytes: 1 << 24, blockSize: 4096)) else { return }
        while let entry = try? reader.next() {
            if case .key(let key) = entry {
                _ = try? DumpPayload.make(for: key)
                _ = try? key.summary(limits: Limits(maximumValueBytes: 1 << 24, blockSize: 4096))
            }
        }
    }
}
