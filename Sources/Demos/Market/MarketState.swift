import RESP
import RedisClient

/// Everything the marketplace holds at one moment: users, inventories and listings.
/// Equatable, so two runs (built-in commands and market.rk) can be compared.
public struct MarketState: Sendable, Equatable {
    /// One user's HASH and inventory.
    public struct User: Sendable, Equatable {
        public var id: String
        public var name: String
        public var funds: Int64
        public var inventory: [String]
    }

    /// One market entry.
    public struct Listing: Sendable, Equatable {
        public var item: String
        public var seller: String
        public var price: Double
    }

    /// Users in id order (numeric ids as numbers).
    public var users: [User]
    /// Listings by price, then member, as ZRANGE gives them.
    public var listings: [Listing]

    /// The sum of every user's funds.
    public var totalFunds: Int64 { users.reduce(0) { $0 + $1.funds } }

    /// How many copies of `item` exist: in inventories plus in the market.
    public func copies(of item: String) -> Int {
        users.reduce(0) { $0 + $1.inventory.filter { $0 == item }.count } + listings.filter { $0.item == item }.count
    }

    /// Reads the whole market (SCAN for users, then HGET/SMEMBERS in one pipeline).
    public static func load(_ connection: RedisConnection) async throws -> MarketState {
        let keys = try await scan(connection, match: MarketKeys.user("*"))
        let ids = keys.map { String($0.dropFirst("users:".count)) }.sorted(by: idOrder)
        var commands: [RESPCommand] = []
        for id in ids {
            commands.append(RESPCommand("HMGET", MarketKeys.user(id), "name", "funds"))
            commands.append(RESPCommand("SMEMBERS", MarketKeys.inventory(id)))
        }
        let replies = try await connection.pipeline(commands)
        var users: [User] = []
        for (i, id) in ids.enumerated() {
            let fields = replies[2 * i].elements ?? []
            if let message = replies[2 * i].errorMessage ?? replies[2 * i + 1].errorMessage {
                throw MarketError(.serverError, "cannot read user \(id) on \(connection.endpoint): \(message)", endpoint: connection.endpoint)
            }
            let name = fields.first?.string ?? ""
            let funds = fields.count > 1 ? fields[1].string.flatMap { Int64($0) } ?? 0 : 0
            let inventory = (replies[2 * i + 1].elements ?? []).compactMap(\.string).sorted()
            users.append(User(id: id, name: name, funds: funds, inventory: inventory))
        }
        let market = try await connection.send(RESPCommand("ZRANGE", MarketKeys.market, "0", "-1", "WITHSCORES"))
        var listings: [Listing] = []
        let flat = flatten(market)
        for i in stride(from: 0, to: flat.count - 1, by: 2) {
            guard let member = flat[i].string, let (item, seller) = MarketKeys.parseListing(member) else { continue }
            listings.append(Listing(item: item, seller: seller, price: flat[i + 1].string.flatMap { Double($0) } ?? 0))
        }
        return MarketState(users: users, listings: listings)
    }

    /// WITHSCORES replies: RESP2 gives a flat array, RESP3 pairs.
    static func flatten(_ reply: RESPValue) -> [RESPValue] {
        var out: [RESPValue] = []
        for element in reply.elements ?? [] {
            if let pair = element.elements { out += pair } else { out.append(element) }
        }
        return out
    }

    /// Every key matching `pattern`, by SCAN (never KEYS, which blocks the server).
    static func scan(_ connection: RedisConnection, match pattern: String) async throws -> [String] {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = try await connection.send(RESPCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "1000"))
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].string else {
                throw MarketError(.badState, "\(connection.endpoint) answered SCAN with an unexpected reply: \(reply)", endpoint: connection.endpoint)
            }
            cursor = next
            keys += (parts[1].elements ?? []).compactMap(\.string)
        } while cursor != "0"
        return keys
    }

    /// Numeric ids in numeric order, others after them by text.
    static func idOrder(_ a: String, _ b: String) -> Bool {
        switch (Int(a), Int(b)) {
        case let (x?, y?): return x < y
        case (_?, nil): return true
        case (nil, _?): return false
        default: return a < b
        }
    }
}
