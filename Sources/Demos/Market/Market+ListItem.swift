import RESP

extension Market {
    /// How `list-item` ended.
    public enum ListOutcome: String, Sendable {
        /// In the market, out of the seller's inventory.
        case listed
        /// The seller does not have the item (the book's `return None`).
        case notInInventory = "not in inventory"
        /// The seller's inventory kept changing until the time limit (the book's `return False`).
        case gaveUp = "gave up"
    }

    /// What `list-item` did.
    public struct ListResult: Sendable {
        public var outcome: ListOutcome
        /// Attempts made (1 when nothing interfered).
        public var attempts: Int
        /// Attempts whose EXEC answered nil because the watched inventory changed.
        public var watchRetries: Int
    }

    /// Listing 4.5: WATCH the seller's inventory, check the item is there, MULTI ZADD + SREM
    /// EXEC, and run again on a changed watch, for up to `timeout` (the book: 5 s).
    /// `watch: false` leaves WATCH out, to show what it prevents.
    public func listItem(_ item: String, seller: String, price: Int64, timeout: Duration = .seconds(5),
                         watch: Bool = true, checkUser: Bool = true) async throws -> ListResult {
        try Self.requirePrice(price, for: "list-item \(item) \(seller)")
        guard !item.isEmpty else { throw MarketError(.invalidRequest, "list-item: the item id is empty") }
        if checkUser { try await requireUser(seller, as: "seller") }
        let inventory = MarketKeys.inventory(seller)
        let member = MarketKeys.listing(item: item, seller: seller)
        let clock = ContinuousClock()
        let end = clock.now + timeout
        var result = ListResult(outcome: .gaveUp, attempts: 0, watchRetries: 0)
        while clock.now < end {
            try Task.checkCancellation()
            result.attempts += 1
            if watch { try await send(RESPCommand("WATCH", inventory)) }
            let member_ = try await send(RESPCommand("SISMEMBER", inventory, item))
            guard member_.int == 1 else {
                if watch { try await send(RESPCommand("UNWATCH")) }
                result.outcome = .notInInventory
                return result
            }
            let exec = try await transaction([
                RESPCommand("ZADD", MarketKeys.market, String(price), member),
                RESPCommand("SREM", inventory, item),
            ])
            if exec == .null {
                result.watchRetries += 1
                continue
            }
            result.outcome = .listed
            return result
        }
        return result
    }
}
