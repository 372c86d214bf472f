import RESP
import RedisClient

/// `market contend`: N clients, each on its own connection, race to buy the same item for a
/// while; whoever gets it lists it again at the same price, so the race goes on. Then the
/// invariants WATCH protects are checked on the final state.
public enum MarketContention {
    /// How the race is run.
    public struct Options: Sendable {
        /// Buyers: users 1...buyers, one connection each.
        public var buyers: Int
        /// The item they race for.
        public var item: String
        /// How long the race lasts.
        public var duration: Duration
        /// False runs the book's code without WATCH: the lost updates it prevents show.
        public var watch: Bool
        /// The price it is listed at when nobody lists it yet.
        public var price: Int64
        /// A pause between reading and writing (an application's work).
        public var think: Duration

        public init(buyers: Int, item: String, duration: Duration = .seconds(2), watch: Bool = true,
                    price: Int64 = 10, think: Duration = .milliseconds(1)) {
            self.buyers = buyers
            self.item = item
            self.duration = duration
            self.watch = watch
            self.price = price
            self.think = think
        }
    }

    /// One buyer's counts.
    public struct BuyerCounts: Sendable {
        public var buyer: String
        /// purchase calls.
        public var attempts = 0
        /// EXEC answered nil because market: or the buyer changed (each retried).
        public var watchRetries = 0
        public var bought = 0
        public var lost = 0
        public var notEnoughFunds = 0
        public var relisted = 0
        public var gaveUp = 0
    }

    /// One invariant and whether it held.
    public struct Invariant: Sendable {
        public var name: String
        public var held: Bool
        public var detail: String
    }

    /// The race's outcome.
    public struct Report: Sendable {
        public var buyers: [BuyerCounts]
        public var invariants: [Invariant]
        public var seconds: Double
        public var watch: Bool
        /// Nil when the race ran its full duration; else why it stopped early.
        public var stopped: String?
        public var before: MarketState
        public var after: MarketState
    }

    /// Runs the race against the server `configuration` points to.
    public static func run(_ configuration: RedisConnectionConfiguration, _ options: Options) async throws -> Report {
        guard options.buyers >= 1 else { throw MarketError(.invalidRequest, "market contend: --buyers must be 1 or more, not \(options.buyers)") }
        try Market.requirePrice(options.price, for: "market contend")
        let control = try await RedisConnection.connect(configuration)
        defer { Task { await control.close() } }
        let before = try await MarketState.load(control)
        guard before.users.count >= options.buyers else {
            throw MarketError(.badState, "market contend: \(options.buyers) buyers need \(options.buyers) users, the market on \(control.endpoint) has \(before.users.count) (market reset --users \(options.buyers))", endpoint: control.endpoint)
        }
        guard before.copies(of: options.item) > 0 else {
            throw MarketError(.notFound, "market contend: unknown item \(options.item): it is neither listed nor in any inventory on \(control.endpoint)", endpoint: control.endpoint)
        }
        // The race needs a listing: the owner puts the item on the market first.
        if !before.listings.contains(where: { $0.item == options.item }),
           let owner = before.users.first(where: { $0.inventory.contains(options.item) }) {
            _ = try await Market(connection: control).listItem(options.item, seller: owner.id, price: options.price)
        }
        let buyers = before.users.prefix(options.buyers).map(\.id)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + options.duration
        var counts: [BuyerCounts] = []
        var stopped: String?
        await withTaskGroup(of: (BuyerCounts, String?).self) { group in
            for buyer in buyers {
                group.addTask {
                    var mine = BuyerCounts(buyer: buyer)
                    do {
                        let connection = try await RedisConnection.connect(configuration)
                        defer { Task { await connection.close() } }
                        try await race(Market(connection: connection), as: buyer, options, until: end, counts: &mine)
                        return (mine, nil)
                    } catch {
                        return (mine, Task.isCancelled ? "interrupted" : "\(error)")
                    }
                }
            }
            for await (one, problem) in group {
                counts.append(one)
                if stopped == nil, let problem { stopped = problem }
            }
        }
        let seconds = (clock.now - start).inSeconds
        counts.sort { MarketState.idOrder($0.buyer, $1.buyer) }
        // Read the final state even after Ctrl-C: a detached task is not cancelled with
        // this one, so the invariants are still checked on what the race left.
        let after = try await Task.detached { try await MarketState.load(control) }.value
        return Report(buyers: counts, invariants: invariants(before, after, item: options.item, buyers: counts),
                      seconds: seconds, watch: options.watch, stopped: stopped, before: before, after: after)
    }

    /// One buyer's loop: buy any listing of the item by someone else, list it again after
    /// buying it, list it if it sits in the buyer's inventory.
    static func race(_ market: Market, as buyer: String, _ options: Options, until end: ContinuousClock.Instant,
                     counts: inout BuyerCounts) async throws {
        let clock = ContinuousClock()
        let prefix = options.item + "."
        while clock.now < end {
            try Task.checkCancellation()
            let flat = MarketState.flatten(try await market.connection.send(RESPCommand("ZRANGE", MarketKeys.market, "0", "-1", "WITHSCORES")))
            var offer: (seller: String, price: Int64)?
            for i in stride(from: 0, to: flat.count - 1, by: 2) {
                guard let member = flat[i].string, member.hasPrefix(prefix),
                      let (_, seller) = MarketKeys.parseListing(member), seller != buyer,
                      let price = flat[i + 1].string.flatMap({ Double($0) }).flatMap({ Int64(exactly: $0) }) else { continue }
                offer = (seller, price)
                break
            }
            if let offer {
                counts.attempts += 1
                let result = try await market.purchase(buyer: buyer, item: options.item, seller: offer.seller, price: offer.price,
                                                       timeout: max(end - clock.now, .milliseconds(1)), watch: options.watch,
                                                       think: options.think, checkUsers: false)
                counts.watchRetries += result.watchRetries
                switch result.outcome {
                case .bought:
                    counts.bought += 1
                    if try await market.listItem(options.item, seller: buyer, price: offer.price, watch: options.watch, checkUser: false).outcome == .listed {
                        counts.relisted += 1
                    }
                case .notListed, .priceChanged: counts.lost += 1
                case .notEnoughFunds: counts.notEnoughFunds += 1
                case .gaveUp: counts.gaveUp += 1
                }
            } else if try await market.connection.send(RESPCommand("SISMEMBER", MarketKeys.inventory(buyer), options.item)).int == 1 {
                if try await market.listItem(options.item, seller: buyer, price: options.price, watch: options.watch, checkUser: false).outcome == .listed {
                    counts.relisted += 1
                }
            } else {
                try await Task.sleep(for: .microseconds(200))
            }
        }
    }

    /// Money is conserved, no item is sold twice (it exists as often as before), no funds
    /// are negative, and every sale was paid for.
    static func invariants(_ before: MarketState, _ after: MarketState, item: String, buyers: [BuyerCounts]) -> [Invariant] {
        let negative = after.users.filter { $0.funds < 0 }
        let copiesBefore = before.copies(of: item), copiesAfter = after.copies(of: item)
        let holders = after.users.filter { $0.inventory.contains(item) }.map(\.id) + after.listings.filter { $0.item == item }.map { "market:\($0.seller)" }
        return [
            Invariant(name: "money is conserved", held: before.totalFunds == after.totalFunds,
                      detail: "total funds \(before.totalFunds) before, \(after.totalFunds) after"),
            Invariant(name: "no item sold twice", held: copiesBefore == copiesAfter,
                      detail: "\(item): \(copiesBefore) cop\(copiesBefore == 1 ? "y" : "ies") before, \(copiesAfter) after (held by \(holders.joined(separator: ", ")))"),
            Invariant(name: "no negative funds", held: negative.isEmpty,
                      detail: negative.isEmpty ? "lowest funds \(after.users.map(\.funds).min() ?? 0)" : negative.map { "user \($0.id): \($0.funds)" }.joined(separator: ", ")),
        ]
    }
}
