/// Where a roll-forward stops.
public enum ReplayTarget: Sendable, Hashable, CustomStringConvertible {
    /// Every write stamped at or before `second` (inclusive), or before it (exclusive).
    case time(second: Int64, inclusive: Bool)
    /// Everything the archive holds.
    case latest
    /// Just before the write of a named mark's key.
    case mark(String)
    /// Just before the first command named in `commands` (upper case) stamped at or after
    /// `notBefore`: the "someone flushed production" case.
    case beforeFirst(commands: Set<String>, notBefore: Int64)
    /// Everything in the generation's streams before byte `bytes` of stream `stream`.
    case offset(generation: Int, stream: Int, bytes: Int)

    public var description: String {
        switch self {
        case .time(let s, let inclusive): return (inclusive ? "at or before " : "before ") + TimeFormat.text(Double(s))
        case .latest: return "everything archived"
        case .mark(let name): return "mark \(name)"
        case .beforeFirst(let commands, let t): return "before the first \(commands.sorted().joined(separator: "|")) at or after \(TimeFormat.text(Double(t)))"
        case .offset(let g, let s, let b): return "offset \(g):\(s):\(b)"
        }
    }
}
