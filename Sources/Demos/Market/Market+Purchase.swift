import RESP

extension Market {
    /// How `purchase` ended.
    public enum PurchaseOutcome: String, Sendable, CaseIterable {
        /// Money and item moved.
        case bought
        /// The item is not in the market (sold already, or never listed).
        case notListed = "not listed"
        /// The item is listed at another price than the buyer saw.
        case priceChanged = "price changed"
        /// The buyer's funds are below the price.
        case notEnoughFunds = "not enough funds"
        /// The market or the buyer kept changing until the time limit.
        case gaveUp = "gave up"
    }

    /// What `purchase` did.
    public struct PurchaseResult: Sendable {
        public var outcome: PurchaseOutcome
        /// Attempts made (1 when nothing interfered).
        public var attempts: Int
        /// Attempts whose EXEC answered nil because a watched key changed.
        public var watchRetries: Int
        /// The price in the market at the last attempt (nil: not listed).
        public var marketPrice: Double?
        /// The buyer's funds at the last attempt.
        public var funds: Int64?
    }

    /// Listing 4.6: WATCH `market:` and the buyer, check the listed price and the funds,
    /// then MULTI: pay the seller, charge the buyer, move the item, EXEC; run again on a
    /// changed watch for up to `timeout` (the book: 10 s). `watch: false` leaves WATCH
    /// out; `think` pauses between the reads and the writes (an application's work), which
    /// widens the window other clients can change the data in.
    public func purchase(buyer: String, item: String, seller: String, price: Int64, timeout: Duration = .seconds(10),
                         watch: Bool = true, think: Duration = .zero, checkUsers: Bool = true) async throws -> PurchaseResult {
        try Self.requirePrice(price, for: "purchase \(buyer) \(item) \(seller)")
        guard !item.isEmpty else { throw MarketError(.invalidRequest, "purchase: the item id is empty") }
        if checkUsers {
            try await requireUser(buyer, as: "buyer")
            try await requireUser(seller, as: "seller")
        }
        let buyerKey = MarketKeys.user(buyer)
        let member = MarketKeys.listing(item: item, seller: seller)
        let clock = ContinuousClock()
        let end = clock.now + timeout
        var result = PurchaseResult(outcome: .gaveUp, attempts: 0, watchRetries: 0)
        while clock.now < end {
            try Task.checkCancellation()
            result.attempts += 1
            if watch { try await send(RESPCommand("WATCH", MarketKeys.market, buyerKey)) }
            let score = try await send(RESPCommand("ZSCORE", MarketKeys.market, member))
            let fundsReply = try await send(RESPCommand("HGET", buyerKey, "funds"))
            guard let funds = fundsReply.string.flatMap({ Int64($0) }) else {
                if watch { try await send(RESPCommand("UNWATCH")) }
                throw MarketError(.badState, "purchase: the funds of buyer \(buyer) (\(buyerKey) funds) on \(connection.endpoint) are not a whole number: \(fundsReply.string ?? "missing")", endpoint: connection.endpoint)
            }
            result.funds = funds
            result.marketPrice = score.string.flatMap { Double($0) }
            let stop: PurchaseOutcome? = switch result.marketPrice {
            case nil: .notListed
            case let listed? where listed != Double(price): .priceChanged
            default: price > funds ? .notEnoughFunds : nil
            }
            if let stop {
                if watch { try await send(RESPCommand("UNWATCH")) }
                result.outcome = stop
                return result
            }
            if think > .zero { try await Task.sleep(for: think) }
            let exec = try await transaction([
                RESPCommand("HINCRBY", MarketKeys.user(seller), "funds", String(price)),
                RESPCommand("HINCRBY", buyerKey, "funds", String(-price)),
                RESPCommand("SADD", MarketKeys.inventory(buyer), item),
                RESPCommand("ZREM", MarketKeys.market, member),
            ])
            if exec == .null {
                result.watchRetries += 1
                continue
            }
            result.outcome = .bought
            result.funds = funds - price
            return result
        }
        return result
    }
}
