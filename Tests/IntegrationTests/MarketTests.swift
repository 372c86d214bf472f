import Demos
import Operations
import RESP
import RedisClient
import Testing

/// The marketplace of section 4.4 (listings 4.5 and 4.6) against a real redis-server:
/// each outcome, the key layout, --explain's transcript and the contention invariants.
@Suite struct MarketTests {
    static func market(_ lab: Lab, _ name: String = "m") async throws -> (Market, RedisConnection) {
        let server = try await lab.start(name)
        let connection = try await RedisConnection.connect(server.connectionConfiguration)
        let market = Market(connection: connection)
        _ = try await market.reset(users: 30, items: 26, funds: 100)
        return (market, connection)
    }

    @Test func resetLaysOutTheBooksKeys() async throws {
        try await withLab { lab in
            let (_, c) = try await Self.market(lab)
            #expect(try await c.send(["HGET", "users:17", "name"]) == .bulk("Frank"))
            #expect(try await c.send(["HGET", "users:27", "funds"]) == .bulk("100"))
            #expect(try await c.send(["SISMEMBER", "inventory:17", "ItemM"]) == .integer(1))
            #expect(try await c.send(["TYPE", "inventory:17"]) == .simple("set"))
            let state = try await MarketState.load(c)
            #expect(state.users.count == 30 && state.totalFunds == 3000 && state.listings.isEmpty)
            #expect(state.users.reduce(0) { $0 + $1.inventory.count } == 26)
            // The same seed gives the same market; another seed another one.
            let seeded = Market(connection: c)
            _ = try await seeded.reset(users: 10, items: 40, funds: 50, seed: 7)
            let first = try await MarketState.load(c)
            _ = try await seeded.reset(users: 10, items: 40, funds: 50, seed: 7)
            #expect(try await MarketState.load(c) == first)
            _ = try await seeded.reset(users: 10, items: 40, funds: 50, seed: 8)
            #expect(try await MarketState.load(c) != first)
            #expect(first.users.count == 10, "users 11... of the previous market were deleted")
            await c.close()
        }
    }

    @Test func listItemOutcomes() async throws {
        try await withLab { lab in
            let (market, c) = try await Self.market(lab)
            let listed = try await market.listItem("ItemM", seller: "17", price: 97)
            #expect(listed.outcome == .listed && listed.attempts == 1 && listed.watchRetries == 0)
            #expect(try await c.send(["ZSCORE", "market:", "ItemM.17"]).string == "97")
            #expect(try await c.send(["SISMEMBER", "inventory:17", "ItemM"]) == .integer(0))
            #expect(try await market.listItem("ItemM", seller: "17", price: 97).outcome == .notInInventory)
            #expect(try await market.listItem("NoSuchItem", seller: "17", price: 5).outcome == .notInInventory)
            let unknown = await #expect(throws: MarketError.self) { try await market.listItem("ItemA", seller: "99", price: 5) }
            #expect(unknown?.message.contains("unknown seller 99: users:99 does not exist on 127.0.0.1:") == true)
            #expect(unknown?.kind == .notFound && unknown?.endpoint == c.endpoint)
            let negative = await #expect(throws: MarketError.self) { try await market.listItem("ItemA", seller: "5", price: -1) }
            #expect(negative?.message.contains("0 or more, not -1") == true)
            #expect(negative?.kind == .invalidRequest)
            await c.close()
        }
    }

    @Test func purchaseOutcomes() async throws {
        try await withLab { lab in
            let (market, c) = try await Self.market(lab)
            _ = try await market.listItem("ItemM", seller: "17", price: 97)
            let bought = try await market.purchase(buyer: "27", item: "ItemM", seller: "17", price: 97)
            #expect(bought.outcome == .bought && bought.funds == 3)
            #expect(try await c.send(["HGET", "users:27", "funds"]) == .bulk("3"))
            #expect(try await c.send(["HGET", "users:17", "funds"]) == .bulk("197"))
            #expect(try await c.send(["SISMEMBER", "inventory:27", "ItemM"]) == .integer(1))
            #expect(try await c.send(["ZSCORE", "market:", "ItemM.17"]) == .null)

            #expect(try await market.purchase(buyer: "27", item: "ItemM", seller: "17", price: 97).outcome == .notListed)
            _ = try await market.listItem("ItemW", seller: "27", price: 50)
            let changed = try await market.purchase(buyer: "17", item: "ItemW", seller: "27", price: 40)
            #expect(changed.outcome == .priceChanged && changed.marketPrice == 50)
            _ = try await market.listItem("ItemM", seller: "27", price: 150)
            let poor = try await market.purchase(buyer: "1", item: "ItemM", seller: "27", price: 150)
            #expect(poor.outcome == .notEnoughFunds && poor.funds == 100)
            // Nothing moved for the refused purchases.
            #expect(try await MarketState.load(c).totalFunds == 3000)
            #expect(try await c.send(["HGET", "users:1", "funds"]) == .bulk("100"))

            let unknown = await #expect(throws: MarketError.self) {
                try await market.purchase(buyer: "404", item: "ItemM", seller: "27", price: 150)
            }
            #expect(unknown?.message.contains("unknown buyer 404") == true)
            #expect(unknown?.kind == .notFound)
            let negative = await #expect(throws: MarketError.self) { try await market.purchase(buyer: "1", item: "ItemM", seller: "27", price: -150) }
            #expect(negative?.kind == .invalidRequest)
            await c.close()
        }
    }

    @Test func purchaseGivesUpWhileTheBuyerKeepsChanging() async throws {
        try await withLab { lab in
            let (market, c) = try await Self.market(lab)
            _ = try await market.listItem("ItemM", seller: "17", price: 97)
            let server = try #require(await lab.server("m"))
            // Another client touches the buyer's HASH every millisecond: every EXEC is
            // aborted by WATCH, each attempt retried, until the time limit.
            let meddler = Task {
                let other = try await RedisConnection.connect(server.connectionConfiguration)
                var n = 0
                while !Task.isCancelled {
                    n += 1
                    _ = try await other.send(RESPCommand("HSET", "users:27", "seen", String(n)))
                    try await Task.sleep(for: .milliseconds(1))
                }
                await other.close()
            }
            // Start once the meddler is at work (bounded wait).
            for _ in 0..<500 where try await c.send(["HGET", "users:27", "seen"]) == .null {
                try await Task.sleep(for: .milliseconds(10))
            }
            let result = try await market.purchase(buyer: "27", item: "ItemM", seller: "17", price: 97,
                                                   timeout: .milliseconds(400), think: .milliseconds(20))
            meddler.cancel()
            #expect(result.outcome == .gaveUp)
            #expect(result.attempts > 1 && result.watchRetries == result.attempts)
            // Not a single write got through.
            #expect(try await c.send(["HGET", "users:27", "funds"]) == .bulk("100"))
            #expect(try await c.send(["ZSCORE", "market:", "ItemM.17"]).string == "97")
            await c.close()
        }
    }

    @Test func explainRecordsWatchMultiQueuedExec() async throws {
        try await withLab { lab in
            let (_, c) = try await Self.market(lab)
            let transcript = MarketTranscript()
            let market = Market(connection: c, transcript: transcript)
            _ = try await market.listItem("ItemM", seller: "17", price: 97)
            _ = try await market.purchase(buyer: "27", item: "ItemM", seller: "17", price: 97)
            let names = transcript.exchanges.map { $0.command[0] }
            #expect(names == ["WATCH", "SISMEMBER", "MULTI", "ZADD", "SREM", "EXEC",
                              "WATCH", "ZSCORE", "HGET", "MULTI", "HINCRBY", "HINCRBY", "SADD", "ZREM", "EXEC"])
            #expect(transcript.exchanges[3].reply == .simple("QUEUED"))
            #expect(transcript.exchanges[6].command == ["WATCH", "market:", "users:27"])
            #expect(transcript.exchanges.last?.reply == .array([.integer(197), .integer(3), .integer(1), .integer(1)]))
            await c.close()
        }
    }

    @Test func eightBuyersKeepTheInvariantsUnderWatch() async throws {
        try await withLab { lab in
            let (_, c) = try await Self.market(lab)
            let server = try #require(await lab.server("m"))
            let report = try await MarketContention.run(server.connectionConfiguration,
                                                        .init(buyers: 8, item: "ItemM", duration: .seconds(1)))
            #expect(report.stopped == nil)
            #expect(report.buyers.count == 8)
            for invariant in report.invariants { #expect(invariant.held, "\(invariant.name): \(invariant.detail)") }
            let bought = report.buyers.reduce(0) { $0 + $1.bought }
            #expect(bought > 0)
            #expect(report.after.copies(of: "ItemM") == 1)
            #expect(report.after.totalFunds == 3000)
            await c.close()
        }
    }

    @Test func withoutWatchTheItemIsSoldTwice() async throws {
        try await withLab { lab in
            let (_, c) = try await Self.market(lab)
            let server = try #require(await lab.server("m"))
            // 5 ms between reading and writing: eight buyers read the same listing in that
            // window again and again, and without WATCH each of them buys it.
            let report = try await MarketContention.run(server.connectionConfiguration,
                                                        .init(buyers: 8, item: "ItemM", duration: .seconds(1), watch: false,
                                                              think: .milliseconds(5)))
            let sold = try #require(report.invariants.first { $0.name == "no item sold twice" })
            #expect(!sold.held, "\(sold.detail)")
            #expect(report.after.copies(of: "ItemM") > 1)
            await c.close()
        }
    }

    @Test func contendRefusesUnknownItemsAndTooFewUsers() async throws {
        try await withLab { lab in
            let (_, c) = try await Self.market(lab)
            let server = try #require(await lab.server("m"))
            let unknown = await #expect(throws: MarketError.self) {
                try await MarketContention.run(server.connectionConfiguration, .init(buyers: 2, item: "ItemZZZ"))
            }
            #expect(unknown?.message.contains("unknown item ItemZZZ") == true)
            #expect(unknown?.kind == .notFound && unknown?.endpoint == server.endpoint)
            let many = await #expect(throws: MarketError.self) {
                try await MarketContention.run(server.connectionConfiguration, .init(buyers: 31, item: "ItemM"))
            }
            #expect(many?.message.contains("31 buyers need 31 users") == true)
            #expect(many?.kind == .badState)
            await c.close()
        }
    }
}
