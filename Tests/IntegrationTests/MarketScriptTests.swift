import Demos
import Foundation
import Operations
import RedisClient
import Testing

/// scripts/demos/market.rk, the marketplace written in redkeep's language, run by the built
/// redkeep binary: its asserts pass, and it leaves the same market as the built-in commands.
@Suite struct MarketScriptTests {
    static let demos: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("scripts/demos").path
    }()

    @Test func demoRunsWithItsAssertionsOnItsOwnServer() throws {
        let run = try RedkeepBinaryTests.redkeep([Self.demos + "/market.rk", "demo"])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("market demo: every step as the book describes"))
        #expect(run.out.contains("purchase 27 ItemM 17 97: bought"))
        #expect(run.out.contains("purchase 17 ItemW 27 40: price changed"))
    }

    @Test func demoAndBuiltInCommandsLeaveTheSameMarket() async throws {
        try await withLab { lab in
            let script = try await lab.start("script")
            let builtin = try await lab.start("builtin")
            let demo = try RedkeepBinaryTests.redkeep(["--port", "\(script.port)", Self.demos + "/market.rk", "demo"])
            #expect(demo.status == 0, "\(demo.err)")
            let statements = """
                market reset --users 30 --items 26 --funds 100
                list-item ItemM 17 97
                purchase 27 ItemM 17 97
                purchase 27 ItemM 17 97
                list-item ItemW 27 50
                purchase 17 ItemW 27 40
                list-item ItemM 27 150
                purchase 1 ItemM 27 150
                list-item ItemM 17 10
                """
            let run = try RedkeepBinaryTests.redkeep(["--port", "\(builtin.port)", "--json"], stdin: statements + "\n")
            #expect(run.status == 0, "\(run.err)")
            let outcomes = run.out.split(separator: "\n").compactMap { line -> String? in
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
                return object["outcome"] as? String
            }
            #expect(outcomes == ["listed", "bought", "not listed", "listed", "price changed", "listed", "not enough funds", "not in inventory"])
            try await Self.expectSameMarket(script, builtin)
        }
    }

    /// A seeded random run of both operations: market.rk's procedures, sourced one after
    /// another in a generated script, against the built-ins on another server.
    @Test func seededRandomOperationsGiveTheSameOutcomesAndState() async throws {
        try await withLab { lab in
            let script = try await lab.start("script")
            let builtin = try await lab.start("builtin")
            var random = SplitMix64(seed: 2026)
            var language = ["market reset --users 6 --items 12 --funds 60 --seed 2026"]
            var builtins = ["market reset --users 6 --items 12 --funds 60 --seed 2026"]
            var expectedLines: [String] = []
            for _ in 0..<40 {
                let item = MarketKeys.itemName(Int(random.next() % 12))
                let a = String(random.next() % 6 + 1), b = String(random.next() % 6 + 1)
                let price = String(random.next() % 4 * 10 + 10)
                if random.next() % 2 == 0 {
                    language.append("let item = \(item); let seller = \(a); let price = \(price); source \(Self.demos)/market/list-item.rk")
                    builtins.append("let r = list-item \(item) \(a) \(price); echo \"list-item \(item) \(a) \(price): ${r.outcome}\"")
                    expectedLines.append("list-item \(item) \(a) \(price): ")
                } else {
                    language.append("let buyer = \(a); let item = \(item); let seller = \(b); let price = \(price); source \(Self.demos)/market/purchase.rk")
                    builtins.append("let r = purchase \(a) \(item) \(b) \(price); echo \"purchase \(a) \(item) \(b) \(price): ${r.outcome}\"")
                    expectedLines.append("purchase \(a) \(item) \(b) \(price): ")
                }
            }
            let file = try RedkeepBinaryTests.temporaryFile("ops.rk", language.joined(separator: "\n") + "\n")
            let viaScript = try RedkeepBinaryTests.redkeep(["--port", "\(script.port)", file])
            #expect(viaScript.status == 0, "\(viaScript.err)")
            let viaBuiltins = try RedkeepBinaryTests.redkeep(["--port", "\(builtin.port)"], stdin: builtins.joined(separator: "\n") + "\n")
            #expect(viaBuiltins.status == 0, "\(viaBuiltins.err)")
            func outcomes(_ out: String) -> [String] {
                out.split(separator: "\n").filter { $0.hasPrefix("list-item ") || $0.hasPrefix("purchase ") }
                    .map { String($0.split(separator: "(").first ?? "").trimmingCharacters(in: .whitespaces) }
            }
            let mine = outcomes(viaScript.out), theirs = outcomes(viaBuiltins.out)
            #expect(mine.count == 40 && mine == theirs)
            #expect(Set(theirs.map { $0.components(separatedBy: ": ").last ?? "" }).count >= 3, "the run should meet several outcomes: \(theirs)")
            try await Self.expectSameMarket(script, builtin)
        }
    }

    @Test func builtInsExplainAndRefuseBadInput() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let explained = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "-c",
                                                            "market reset; list-item ItemM 17 97 --explain; purchase 27 ItemM 17 97 --explain"])
            #expect(explained.status == 0, "\(explained.err)")
            for line in ["> WATCH inventory:17", "> MULTI", "< QUEUED", "> EXEC", "> WATCH market: users:27", "> HINCRBY users:27 funds -97"] {
                #expect(explained.out.contains(line + "\n"), "missing \(line) in \(explained.out)")
            }
            // The purchase's exchanges come in the book's order.
            let purchase = String(try #require(explained.out.components(separatedBy: "> WATCH market: users:27").last))
            let order = ["> ZSCORE", "> HGET", "> MULTI", "> HINCRBY users:17", "> ZREM", "> EXEC"].compactMap { purchase.range(of: $0)?.lowerBound }
            #expect(order.count == 6 && order == order.sorted())

            let unknown = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "-c", "purchase 99 ItemM 17 97"])
            #expect(unknown.status == 3)
            #expect(unknown.err.contains("unknown buyer 99: users:99 does not exist on 127.0.0.1:\(server.port)"))
            let negative = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "-c", "list-item ItemA 5 -3"])
            #expect(negative.status == 1)
            #expect(negative.err.contains("the price must be 0 or more, not -3"))
            let scriptNegative = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", Self.demos + "/market.rk", "list-item", "ItemA", "5", "-3"])
            #expect(scriptNegative.status == 3)
            #expect(scriptNegative.err.contains("the price must be 0 or more, not -3"))
            let contend = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "--json", "-c",
                                                          "market reset; market contend --buyers 8 --item ItemM --duration 500ms"])
            #expect(contend.status == 0, "\(contend.err)")
            #expect(contend.out.contains("\"invariants_held\":true"))
        }
    }

    static func expectSameMarket(_ a: LocalServer, _ b: LocalServer) async throws {
        let ca = try await RedisConnection.connect(a.connectionConfiguration)
        let cb = try await RedisConnection.connect(b.connectionConfiguration)
        let sa = try await MarketState.load(ca), sb = try await MarketState.load(cb)
        #expect(sa == sb)
        #expect(!sa.users.isEmpty)
        await ca.close()
        await cb.close()
    }
}
