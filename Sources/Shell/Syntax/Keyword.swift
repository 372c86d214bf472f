/// The words the evaluator handles itself: control flow, blocks and prefixes. Every
/// other first word names a redkeep command (``CommandRegistry``) or a Redis command.
enum Keyword: String, Sendable, Hashable, CaseIterable {
    case `let`, `if`, `repeat`, `for`, assert
    case waitUntil = "wait-until"
    case pipeline
    /// Only with a block; `MULTI` alone goes to Redis.
    case multi
    case transaction, abort, exit
    /// `redis CMD ...`: a Redis command whose name a redkeep word shadows.
    case redis

    private static let byName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0) })

    /// The keyword spelled `lowercased`, if it is one. One hash, where `init(rawValue:)`
    /// compares the text with each keyword in turn (5% of parsing a long script).
    static func named(_ lowercased: String) -> Keyword? { byName[lowercased] }
}
