/// The reply to INFO, parsed: sections of fields, each value typed.
///
/// `info["aof_rewrite_in_progress"]` finds a field in any section (field names are unique
/// across sections); `info.section("replication")` gives one section. Values such as
/// `slave0:ip=127.0.0.1,port=7001,state=online,offset=42,lag=0` and
/// `db0:keys=1,expires=0,avg_ttl=0` become ``InfoValue/fields(_:)``.
public struct RedisInfo: Sendable, Hashable {
    /// Sections in the order the server sent them; names are lower-cased (`persistence`).
    public private(set) var sections: [(name: String, fields: [InfoField])] {
        get { storage }
        set { storage = newValue }
    }
    private var storage: [(name: String, fields: [InfoField])] = []
    private var index: [String: InfoValue] = [:]

    /// Parses the text of an INFO reply.
    public init(parsing text: String) {
        var current = ""
        var fields: [InfoField] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if !current.isEmpty || !fields.isEmpty { storage.append((current, fields)) }
                current = line.dropFirst().trimmingSpaces().lowercased()
                fields = []
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = InfoValue(parsing: String(line[line.index(after: colon)...]))
            fields.append(InfoField(name: name, value: value))
            index[name] = value
        }
        if !current.isEmpty || !fields.isEmpty { storage.append((current, fields)) }
    }

    /// The value of field `name` in whichever section holds it.
    public subscript(_ name: String) -> InfoValue? { index[name] }

    /// A field as an integer (`aof_rewrite_in_progress` -> 0), if it is one.
    public func int(_ name: String) -> Int? { index[name]?.int }

    /// A field as text, whatever its type.
    public func string(_ name: String) -> String? { index[name]?.text }

    /// The fields of one section (`"replication"`), or nil when the reply lacks it.
    public func section(_ name: String) -> [InfoField]? {
        storage.first { $0.name == name.lowercased() }?.fields
    }

    /// The keyspace section as numbers: the keys of each database (`db3:keys=10,...`).
    public var keyspace: [Int: Int] {
        var keys: [Int: Int] = [:]
        for field in section("keyspace") ?? [] {
            guard field.name.hasPrefix("db"), let db = Int(field.name.dropFirst(2)) else { continue }
            let count = field.value.text.split(separator: ",").first { $0.hasPrefix("keys=") }.flatMap { Int($0.dropFirst(5)) }
            keys[db] = count ?? 0
        }
        return keys
    }

    /// Keys in every database together (the sum of ``keyspace``).
    public var totalKeys: Int { keyspace.values.reduce(0, +) }

    /// Every field name and value, all sections together, in order.
    public var allFields: [InfoField] { storage.flatMap(\.fields) }

    /// The replicas a master lists (`slaveN:` fields), in order.
    public var replicas: [ReplicaEntry] {
        allFields.compactMap { field in
            guard field.name.hasPrefix("slave"), Int(field.name.dropFirst(5)) != nil,
                  case .fields(let f) = field.value else { return nil }
            return ReplicaEntry(fields: f)
        }
    }

    public static func == (a: RedisInfo, b: RedisInfo) -> Bool { a.index == b.index }
    public func hash(into hasher: inout Hasher) { hasher.combine(index) }
}

/// One `name:value` line of INFO.
public struct InfoField: Sendable, Hashable {
    /// The field name, as sent (`used_memory`).
    public var name: String
    /// The typed value.
    public var value: InfoValue
}

/// An INFO value: a number, text, or a list of `key=value` pairs.
public enum InfoValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int)
    case double(Double)
    case string(String)
    /// `ip=127.0.0.1,port=7001,...`, in order.
    case fields([(String, String)])

    /// Types `text`: integers, then doubles, then `k=v,...` lists, else text.
    public init(parsing text: String) {
        if let i = Int(text) { self = .integer(i); return }
        if let d = Double(text), text.contains(".") { self = .double(d); return }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        if !parts.isEmpty, parts.allSatisfy({ $0.contains("=") && !$0.hasPrefix("=") }) {
            self = .fields(parts.map { part in
                let eq = part.firstIndex(of: "=")!
                return (String(part[..<eq]), String(part[part.index(after: eq)...]))
            })
            return
        }
        self = .string(text)
    }

    /// The value as an integer, when it is one.
    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }

    /// The value as the server wrote it.
    public var text: String {
        switch self {
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .fields(let f): return f.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        }
    }

    /// The value of `key` in a `k=v,...` value.
    public subscript(_ key: String) -> String? {
        guard case .fields(let f) = self else { return nil }
        return f.first { $0.0 == key }?.1
    }

    public var description: String { text }

    public static func == (a: InfoValue, b: InfoValue) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }
}

/// A replica as its master's INFO replication lists it.
public struct ReplicaEntry: Sendable, Hashable {
    /// The replica's address as the master sees it.
    public var host: String
    /// The replica's listening port.
    public var port: Int
    /// `online`, `wait_bgsave`, `send_bulk`...
    public var state: String
    /// The replication offset the replica acknowledged.
    public var offset: Int
    /// Seconds since the replica's last acknowledgement.
    public var lag: Int

    init(fields: [(String, String)]) {
        func value(_ k: String) -> String { fields.first { $0.0 == k }?.1 ?? "" }
        host = value("ip")
        port = Int(value("port")) ?? 0
        state = value("state")
        offset = Int(value("offset")) ?? 0
        lag = Int(value("lag")) ?? 0
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
