import RESP
import RedisClient

extension Market {
    /// What `market reset` made.
    public struct ResetSummary: Sendable {
        public var users: Int
        public var items: Int
        public var funds: Int64
        /// Keys of a previous market that were deleted first.
        public var deletedKeys: Int
    }

    /// The names of figure 4.2 onwards: user 17 is Frank and user 27 is Bill, as in the book.
    static let names = ["Alice", "Ben", "Chloe", "Dan", "Eve", "Fred", "Gina", "Hugo", "Iris", "Jack",
                        "Kate", "Liam", "Mia", "Noah", "Olga", "Pete", "Frank", "Quinn", "Rosa", "Sam",
                        "Tara", "Umar", "Vera", "Will", "Xena", "Yuri", "Bill", "Zoe", "Abel", "Bea"]

    /// Deletes every `users:*`, `inventory:*` and `market:` key, then creates users
    /// 1...`users` (HASH name, funds) and hands out items ItemA, ItemB... one per user in
    /// turn, ItemM to Frank (user 17) as in figure 4.4; with a `seed`, owners are drawn at
    /// random from it instead (the same seed gives the same market).
    public func reset(users: Int, items: Int, funds: Int64, seed: UInt64? = nil) async throws -> ResetSummary {
        guard users >= 1 else { throw MarketError(.invalidRequest, "market reset: --users must be 1 or more, not \(users)") }
        guard items >= 0 else { throw MarketError(.invalidRequest, "market reset: --items must be 0 or more, not \(items)") }
        guard funds >= 0 else { throw MarketError(.invalidRequest, "market reset: --funds must be 0 or more, not \(funds)") }
        let old = try await MarketState.scan(connection, match: "users:*")
            + MarketState.scan(connection, match: "inventory:*") + [MarketKeys.market]
        var deleted = 0
        for start in stride(from: 0, to: old.count, by: 500) {
            let batch = old[start..<min(start + 500, old.count)]
            deleted += try await connection.send(RESPCommand([.string("DEL")] + batch.map { .string($0) })).int ?? 0
        }
        var generator = seed.map { SplitMix64(seed: $0) }
        var inventories = [[String]](repeating: [], count: users)
        for k in 0..<items {
            let owner: Int
            if var g = generator {
                owner = Int(g.next() % UInt64(users))
                generator = g
            } else {
                owner = (k + 4) % users
            }
            inventories[owner].append(MarketKeys.itemName(k))
        }
        var commands: [RESPCommand] = []
        for i in 0..<users {
            let id = String(i + 1)
            let name = i < Self.names.count ? Self.names[i] : "User\(id)"
            commands.append(RESPCommand("HSET", MarketKeys.user(id), "name", name, "funds", String(funds)))
            if !inventories[i].isEmpty {
                commands.append(RESPCommand([.string("SADD"), .string(MarketKeys.inventory(id))] + inventories[i].map { .string($0) }))
            }
        }
        for start in stride(from: 0, to: commands.count, by: 1000) {
            let batch = Array(commands[start..<min(start + 1000, commands.count)])
            for (command, reply) in zip(batch, try await connection.pipeline(batch)) {
                if let message = reply.errorMessage {
                    throw MarketError(.serverError, "market reset: \(connection.endpoint) answered \(command.name) with an error: \(message)", endpoint: connection.endpoint)
                }
            }
        }
        return ResetSummary(users: users, items: items, funds: funds, deletedKeys: deleted)
    }
}

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same market on
/// every platform, which SystemRandomNumberGenerator cannot.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
