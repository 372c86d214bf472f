import ArgumentParser
import Operations
import RESP
import RedisClient

/// `market reset|show|contend`: the marketplace of section 4.4 as a class demo.
struct MarketCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "market", abstract: "The marketplace of Redis in Action 4.4: reset it, show it, or race buyers for an item.",
        discussion: """
        market reset [--users N] [--items M] [--funds F] [--seed S]
          users as HASHes users:<id> (name, funds), inventories as SETs
          inventory:<id>, the market ZSET market: (members <item>.<seller>, scored
          by price); the previous market is deleted first. Without --seed, items go
          round: ItemM to Frank (user 17), as in figure 4.4.
        market show [--limit N]
          the market, the users' funds and inventories, as tables.
        market contend --buyers N --item ITEM [--duration 2s] [--no-watch]
          N clients, each on its own connection, race to buy ITEM; the winner lists
          it again. Reports attempts, retries caused by WATCH and purchases, and
          checks the invariants: money is conserved, no item sold twice, no
          negative funds. --no-watch shows the lost updates WATCH prevents.
        """)
    @Argument(help: "reset, show or contend.") var action: String
    @Option(help: "reset: how many users.") var users = 30
    @Option(help: "reset: how many items.") var items = 26
    @Option(help: "reset: everyone's funds.") var funds: Int64 = 100
    @Option(help: "reset: draw item owners from this seed.") var seed: UInt64?
    @Option(help: "show: at most this many listings and users.") var limit = 50
    @Option(help: "contend: how many buyers (users 1...N).") var buyers = 8
    @Option(help: "contend: the item to race for.") var item: String?
    @Option(help: "contend: how long (500ms, 2s).") var duration = "2s"
    @Option(help: "contend: price when the item must be listed first.") var price: Int64 = 10
    @Option(help: "contend: pause between reading and writing.") var think = "1ms"
    @Flag(name: .customLong("no-watch"), help: "contend: leave WATCH out and see the corruption.") var noWatch = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        do {
            switch action {
            case "reset":
                let s = try await Market(connection: connection).reset(users: users, items: items, funds: funds, seed: seed)
                return .report([("users", .integer(Int64(s.users))), ("items", .integer(Int64(s.items))),
                                ("funds_each", .integer(s.funds)), ("deleted_keys", .integer(Int64(s.deletedKeys))),
                                ("server", .text(connection.endpoint.description))])
            case "show":
                return Self.showReport(try await MarketState.load(connection), limit: max(0, limit))
            case "contend":
                guard let item else { throw ShellError(.usage, "market contend needs --item ITEM", at: invocation.location) }
                let options = MarketContention.Options(
                    buyers: buyers, item: item, duration: try demoDuration(duration, "--duration", at: invocation.location),
                    watch: !noWatch, price: price, think: try demoDuration(think, "--think", at: invocation.location, allowZero: true))
                return Self.contendReport(try await MarketContention.run(connection.configuration, options))
            default:
                throw ShellError(.usage, "market takes reset, show or contend, not \"\(action)\"", at: invocation.location)
            }
        } catch {
            throw demoError(error, at: invocation.location)
        }
    }

    static func showReport(_ state: MarketState, limit: Int) -> RESPValue {
        let listings = state.listings.prefix(limit).map { l -> RESPValue in
            .report([("item", .bulk(l.item)), ("seller", .bulk(l.seller)), ("price", .text(priceText(l.price)))])
        }
        let users = state.users.prefix(limit).map { u -> RESPValue in
            .report([("id", .bulk(u.id)), ("name", .bulk(u.name)), ("funds", .integer(u.funds)),
                     ("inventory", .bulk(u.inventory.joined(separator: " ")))])
        }
        return .report([("listings", .integer(Int64(state.listings.count))), ("market", .array(listings)),
                        ("users", .integer(Int64(state.users.count))), ("total_funds", .integer(state.totalFunds)),
                        ("funds_and_inventories", .array(users))])
    }

    static func contendReport(_ r: MarketContention.Report) -> RESPValue {
        func total(_ key: KeyPath<MarketContention.BuyerCounts, Int>) -> Int64 { Int64(r.buyers.reduce(0) { $0 + $1[keyPath: key] }) }
        let rows = r.buyers.map { b -> RESPValue in
            .report([("buyer", .bulk(b.buyer)), ("attempts", .integer(Int64(b.attempts))), ("watch_retries", .integer(Int64(b.watchRetries))),
                     ("bought", .integer(Int64(b.bought))), ("lost", .integer(Int64(b.lost))), ("relisted", .integer(Int64(b.relisted))),
                     ("no_funds", .integer(Int64(b.notEnoughFunds))),
                     ("gave_up", .integer(Int64(b.gaveUp)))])
        }
        let checks = r.invariants.map { i -> RESPValue in
            .report([("invariant", .text(i.name)), ("held", .text(i.held ? "yes" : "NO: VIOLATED")), ("detail", .bulk(i.detail))])
        }
        var fields: [(String, RESPValue)] = [
            ("watch", .text(r.watch ? "on" : "off (--no-watch)")),
            ("seconds", .double((r.seconds * 100).rounded() / 100)),
            ("attempts", .integer(total(\.attempts))), ("watch_retries", .integer(total(\.watchRetries))),
            ("bought", .integer(total(\.bought))),
            ("invariants_held", .boolean(r.invariants.allSatisfy(\.held))),
            ("buyers", .array(rows)), ("invariants", .array(checks)),
        ]
        if let stopped = r.stopped { fields.insert(("stopped", .bulk(stopped)), at: 1) }
        return .report(fields)
    }

    static func priceText(_ price: Double) -> String {
        price == price.rounded() && abs(price) < 1e15 ? String(Int64(price)) : String(price)
    }
}

/// `list-item ITEM SELLER PRICE`: listing 4.5.
struct ListItem: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-item", abstract: "Put an item of a seller's inventory on the market (listing 4.5: WATCH, MULTI, EXEC).",
        discussion: """
        Outcomes: listed, not in inventory. Retries while the seller's inventory
        changes, for up to --timeout (5s), then fails (exit 3). --explain shows
        every command and reply.
        """)
    @Argument(help: "The item id (ItemM).") var item: String
    @Argument(help: "The seller's user id (17).") var seller: String
    // Unrecognized inputs too, so that a negative price gets its own clear error rather
    // than being taken for an unknown option.
    @Argument(parsing: .allUnrecognized, help: "The price, a whole number of e-dollars.") var price: [String] = []
    @Option(help: "Give up after this long.") var timeout = "5s"
    @Flag(help: "Print each command sent and each reply, in order.") var explain = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let amount = try demoPrice(price, at: invocation.location)
        let limit = try demoDuration(timeout, "--timeout", at: invocation.location)
        let transcript = explain ? MarketTranscript() : nil
        let result: Market.ListResult
        do {
            result = try await Market(connection: connection, transcript: transcript).listItem(item, seller: seller, price: amount, timeout: limit)
        } catch {
            throw demoError(error, at: invocation.location)
        }
        var fields: [(String, RESPValue)] = [
            ("outcome", .text(result.outcome.rawValue)), ("item", .bulk(item)), ("seller", .bulk(seller)),
            ("price", .integer(amount)), ("attempts", .integer(Int64(result.attempts))),
            ("watch_retries", .integer(Int64(result.watchRetries))),
        ]
        fields += await interpreter.explainTranscript(transcript)
        if result.outcome == .gaveUp {
            throw ShellError(.script, "list-item \(item) \(seller) gave up after \(result.attempts) attempts (\(result.watchRetries) retries) in \(timeout): inventory:\(seller) kept changing", at: invocation.location)
        }
        return .report(fields)
    }
}

/// `purchase BUYER ITEM SELLER PRICE`: listing 4.6.
struct Purchase: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "purchase", abstract: "Buy a listed item at the price seen (listing 4.6: WATCH market: and the buyer, MULTI, EXEC).",
        discussion: """
        Outcomes: bought, not listed, price changed, not enough funds. Retries while
        market: or the buyer changes, for up to --timeout (10s), then fails (exit 3)
        saying how many attempts it made. --explain shows every command and reply.
        """)
    @Argument(help: "The buyer's user id (27).") var buyer: String
    @Argument(help: "The item id (ItemM).") var item: String
    @Argument(help: "The seller's user id (17).") var seller: String
    @Argument(parsing: .allUnrecognized, help: "The price seen in the market.") var price: [String] = []
    @Option(help: "Give up after this long.") var timeout = "10s"
    @Flag(help: "Print each command sent and each reply, in order.") var explain = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let amount = try demoPrice(price, at: invocation.location)
        let limit = try demoDuration(timeout, "--timeout", at: invocation.location)
        let transcript = explain ? MarketTranscript() : nil
        let result: Market.PurchaseResult
        do {
            result = try await Market(connection: connection, transcript: transcript)
                .purchase(buyer: buyer, item: item, seller: seller, price: amount, timeout: limit)
        } catch {
            throw demoError(error, at: invocation.location)
        }
        var fields: [(String, RESPValue)] = [
            ("outcome", .text(result.outcome.rawValue)), ("buyer", .bulk(buyer)), ("item", .bulk(item)), ("seller", .bulk(seller)),
            ("price", .integer(amount)),
            ("market_price", result.marketPrice.map { .text(MarketCommand.priceText($0)) } ?? .null),
            ("buyer_funds", result.funds.map { .integer($0) } ?? .null),
            ("attempts", .integer(Int64(result.attempts))), ("watch_retries", .integer(Int64(result.watchRetries))),
        ]
        fields += await interpreter.explainTranscript(transcript)
        if result.outcome == .gaveUp {
            throw ShellError(.script, "purchase \(buyer) \(item) \(seller) gave up after \(result.attempts) attempts (\(result.watchRetries) retries) in \(timeout): market: or users:\(buyer) kept changing", at: invocation.location)
        }
        return .report(fields)
    }
}
