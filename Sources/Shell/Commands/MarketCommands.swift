import ArgumentParser
import Demos
import Operations
import RESP
import RedisClient

/// `market reset|show|contend`: the marketplace of section 4.4 as a class demo; each action
/// is a subcommand with its own options.
struct MarketCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "market", abstract: "The marketplace of Redis in Action 4.4: reset it, show it, or race buyers for an item.",
        discussion: "help market SUBCOMMAND (or market SUBCOMMAND --help) explains each one.",
        subcommands: [MarketReset.self, MarketShow.self, MarketContend.self])

    static func priceText(_ price: Double) -> String {
        price == price.rounded() && abs(price) < 1e15 ? String(Int64(price)) : String(price)
    }
}

struct MarketReset: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Make the market afresh: users, inventories and the market: ZSET.",
        discussion: """
        Users as HASHes users:<id> (name, funds), inventories as SETs inventory:<id>, the
        market ZSET market: (members <item>.<seller>, scored by price); the previous market
        is deleted first. Without --seed, items go round: ItemM to Frank (user 17), as in
        figure 4.4.
        """)
    @Option(help: "How many users (1 to 100000).") var users = 30
    @Option(help: "How many items (0 to 100000).") var items = 26
    @Option(help: "Everyone's funds (0 to 10^12).") var funds: Int64 = 100
    @Option(help: "Draw item owners from this seed.") var seed: UInt64?

    func validate() throws {
        try Bounds.check(users, Bounds.marketUsers, "--users")
        try Bounds.check(items, Bounds.marketItems, "--items")
        try Bounds.check(funds, Bounds.money, "--funds")
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        do {
            let s = try await Market(connection: connection).reset(users: users, items: items, funds: funds, seed: seed)
            return .report([("users", .integer(Int64(s.users))), ("items", .integer(Int64(s.items))),
                            ("funds_each", .integer(s.funds)), ("deleted_keys", .integer(Int64(s.deletedKeys))),
                            ("server", .text(connection.endpoint.description))])
        } catch {
            throw demoError(error, at: invocation.location)
        }
    }
}

struct MarketShow: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "The market, the users' funds and inventories, as tables.")
    @Option(help: "At most this many listings and users.") var limit = 50

    func validate() throws { try Bounds.check(limit, Bounds.rows, "--limit") }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        do {
            return Self.report(try await MarketState.load(connection), limit: limit)
        } catch {
            throw demoError(error, at: invocation.location)
        }
    }

    static func report(_ state: MarketState, limit: Int) -> RESPValue {
        let listings = state.listings.prefix(limit).map { l -> RESPValue in
            .report([("item", .bulk(l.item)), ("seller", .bulk(l.seller)), ("price", .text(MarketCommand.priceText(l.price)))])
        }
        let users = state.users.prefix(limit).map { u -> RESPValue in
            .report([("id", .bulk(u.id)), ("name", .bulk(u.name)), ("funds", .integer(u.funds)),
                     ("inventory", .bulk(u.inventory.joined(separator: " ")))])
        }
        return .report([("listings", .integer(Int64(state.listings.count))), ("market", .array(listings)),
                        ("users", .integer(Int64(state.users.count))), ("total_funds", .integer(state.totalFunds)),
                        ("funds_and_inventories", .array(users))])
    }
}

struct MarketContend: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "contend", abstract: "Race N buyers, each on its own connection, for one item.",
        discussion: """
        The winner lists it again. Reports attempts, retries caused by WATCH and purchases,
        and checks the invariants: money is conserved, no item sold twice, no negative
        funds. --no-watch shows the lost updates WATCH prevents.
        """)
    @Option(help: "How many buyers (users 1...N, 1 to 1000).") var buyers = 8
    @Option(help: "The item to race for.") var item: String
    @Option(help: "How long (500ms, 2s; at most 1d).", transform: Bounds.duration("--duration", in: Bounds.run))
    var duration: Duration = .seconds(2)
    @Option(help: "Price when the item must be listed first (0 to 10^12).") var price: Int64 = 10
    @Option(help: "Pause between reading and writing (0 to 60s).", transform: Bounds.duration("--think", in: Bounds.pause))
    var think: Duration = .milliseconds(1)
    @Flag(name: .customLong("no-watch"), help: "Leave WATCH out and see the corruption.") var noWatch = false

    func validate() throws {
        try Bounds.check(buyers, Bounds.clients, "--buyers")
        try Bounds.check(price, Bounds.money, "--price")
    }

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        do {
            let options = MarketContention.Options(buyers: buyers, item: item, duration: duration, watch: !noWatch, price: price, think: think)
            return Self.report(try await MarketContention.run(connection.configuration, options))
        } catch {
            throw demoError(error, at: invocation.location)
        }
    }

    static func report(_ r: MarketContention.Report) -> RESPValue {
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
    @Option(help: "Give up after this long (default 5s, at most 7d).", transform: Bounds.duration("--timeout", in: Bounds.wait))
    var timeout: Duration = .seconds(5)
    @Flag(help: "Print each command sent and each reply, in order.") var explain = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let amount = try demoPrice(price, at: invocation.location)
        let limit = timeout
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
            throw ShellError(.script, "list-item \(item) \(seller) gave up after \(result.attempts) attempts (\(result.watchRetries) retries) in \(DurationText.format(timeout)): inventory:\(seller) kept changing", at: invocation.location)
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
    @Option(help: "Give up after this long (default 10s, at most 7d).", transform: Bounds.duration("--timeout", in: Bounds.wait))
    var timeout: Duration = .seconds(10)
    @Flag(help: "Print each command sent and each reply, in order.") var explain = false

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        let (_, connection) = try await interpreter.connection(invocation.target, at: invocation.location)
        let amount = try demoPrice(price, at: invocation.location)
        let limit = timeout
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
            throw ShellError(.script, "purchase \(buyer) \(item) \(seller) gave up after \(result.attempts) attempts (\(result.watchRetries) retries) in \(DurationText.format(timeout)): market: or users:\(buyer) kept changing", at: invocation.location)
        }
        return .report(fields)
    }
}
