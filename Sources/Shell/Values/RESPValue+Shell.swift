import NIOCore
import RESP
import RedisClient

extension RESPValue {
    /// A report: a map keyed by simple strings, which is how redkeep's own commands
    /// answer (Redis keys its maps with bulk strings). Field order is kept.
    static func report(_ fields: KeyValuePairs<String, RESPValue>) -> RESPValue {
        .map(fields.map { RESPPair(key: .simple($0.key), value: $0.value) })
    }

    /// A report from an ordered list of fields.
    static func report(_ fields: [(String, RESPValue)]) -> RESPValue {
        .map(fields.map { RESPPair(key: .simple($0.0), value: $0.1) })
    }

    /// `.simple` text for report cells.
    static func text(_ s: String) -> RESPValue { .simple(s) }

    /// The value of `field` in a map (matching simple or bulk keys as text).
    func field(_ name: String) -> RESPValue? {
        switch self {
        case .map(let pairs):
            return pairs.first { $0.key.string == name }?.value
        case .attributed(_, let inner):
            return inner.field(name)
        default:
            return nil
        }
    }

    /// INFO's text as a report: one field per `name:value` line, integers typed.
    static func infoReport(_ text: String) -> RESPValue {
        let info = RedisInfo(parsing: text)
        return .report(info.allFields.map { field -> (String, RESPValue) in
            switch field.value {
            case .integer(let i): return (field.name, .integer(Int64(i)))
            case .double(let d): return (field.name, .double(d))
            case .fields(let pairs): return (field.name, .report(pairs.map { ($0.0, .bulk($0.1)) }))
            case .string(let s): return (field.name, .bulk(s))
            }
        })
    }

    /// The bytes a value stands for when it is substituted into a word: strings as they
    /// are, numbers in decimal, booleans `true`/`false`, nil as nothing, arrays as their
    /// elements joined by spaces. Nil for maps, which have no single text.
    var substitutionBytes: [UInt8]? {
        switch self {
        case .simpleString(let b), .bulkString(let b), .simpleError(let b), .bulkError(let b):
            return Array(b.readableBytesView)
        case .verbatimString(_, let b): return Array(b.readableBytesView)
        case .integer(let i): return Array(String(i).utf8)
        case .double: return Array((string ?? "").utf8)
        case .bigNumber(let s): return Array(s.utf8)
        case .boolean(let b): return Array((b ? "true" : "false").utf8)
        case .null: return []
        case .array(let a), .set(let a), .push(let a):
            var out: [UInt8] = []
            for (i, element) in a.enumerated() {
                guard let bytes = element.substitutionBytes else { return nil }
                if i > 0 { out.append(UInt8(ascii: " ")) }
                out += bytes
            }
            return out
        case .attributed(_, let v): return v.substitutionBytes
        case .map: return nil
        }
    }

    /// Truth for `if`, `assert` and `wait-until`: nil, "", "0", "false", "no", 0,
    /// false, empty aggregates and error replies are false; everything else is true.
    var isTruthy: Bool {
        switch self {
        case .null: return false
        case .boolean(let b): return b
        case .integer(let i): return i != 0
        case .double(let d): return d != 0
        case .simpleError, .bulkError: return false
        case .array(let a), .set(let a), .push(let a): return !a.isEmpty
        case .map(let m): return !m.isEmpty
        case .attributed(_, let v): return v.isTruthy
        default:
            let s = string ?? ""
            if let d = Double(s) { return d != 0 }
            return !(s.isEmpty || s == "false" || s == "no")
        }
    }
}
