import Foundation
import Testing

@testable import Shell

/// Every command, every subcommand, every option that takes a value, fed extreme values
/// (0, -1, Int64.max, a number past Int64, 1 MB of text, `../../etc`), with no server: each
/// run must end in success or a clear error, never a crash (a trap would end this process).
/// The commands and options are read from the registry's declarations, so a new command or
/// option is covered without touching this file.
@Suite(.serialized) struct CommandExtremeValuesTests {
    static let values = ["0", "-1", String(Int64.max), "99999999999999999999", String(repeating: "x", count: 1 << 20), "../../etc"]

    /// The command paths (`aof check`) with, for each, the words its required positionals
    /// need and its options that take a value.
    static func cases() -> [(path: [String], positionals: [String], options: [String])] {
        var out: [(path: [String], positionals: [String], options: [String])] = []
        for entry in CommandRegistry.entries where entry.run != nil {
            guard let declaration = CommandRegistry.declarations[entry.name] else { continue }
            for (path, command) in declaration.allPaths where command.subcommandNames.isEmpty {
                let positionals = (command.arguments ?? []).filter { $0.kind == "positional" }
                // Addresses that fail at once (nothing listens on port 1), names that are plain.
                let words = positionals.enumerated().map { i, p in
                    (p.valueName ?? "").lowercased().contains("address") ? "127.0.0.1:1" : "p\(i)"
                }
                out.append((path, words, command.valueOptions.compactMap { $0.spellings.first { $0.hasPrefix("--") } ?? $0.spellings.first }))
            }
        }
        return out
    }

    /// Runs `text` with no server reachable: no Redis binary for the Lab, nothing listening.
    static func run(_ text: String) async -> (outcome: RunOutcome, err: String) {
        let output = CapturedOutput()
        var configuration = Interpreter.Configuration(output: output, outputMode: .raw, arguments: ["t.rk"])
        configuration.environment = ["REDKEEP_SERVER": "/nonexistent/redis-server", "PATH": "/nonexistent"]
        let interpreter = Interpreter(configuration)
        let outcome = await interpreter.run(text, name: "t.rk")
        await interpreter.shutdown(keepServers: false)
        return (outcome, output.standardError)
    }

    /// Quotes a word for a statement.
    static func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "\\'") + "'" }

    @Test func registryDeclaresEveryCommand() {
        // The dump must be readable for every command: completion and this test rely on it.
        for entry in CommandRegistry.entries where entry.run != nil {
            #expect(CommandRegistry.declarations[entry.name] != nil, "no declaration for \(entry.name)")
        }
        let paths = Self.cases().map { $0.path.joined(separator: " ") }
        #expect(paths.contains("aof check"))
        #expect(paths.contains("market contend"))
        #expect(Self.cases().first { $0.path == ["start"] }?.options.contains("--port") == true)
    }

    @Test func everyOptionTakesExtremeValuesWithoutCrashing() async throws {
        // Relative paths (`../../etc`, `0`) land in a folder of this test's own, two levels
        // deep, so nothing is written beside the package or outside the temporary folder.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rk-extreme-\(getpid())")
        let deep = root.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let before = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(deep.path)
        defer {
            _ = FileManager.default.changeCurrentDirectoryPath(before)
            try? FileManager.default.removeItem(at: root)
        }
        var runs = 0
        for (path, positionals, options) in Self.cases() {
            let head = (path + positionals).joined(separator: " ")
            for option in options {
                for value in Self.values {
                    let statement = "\(head) \(option) \(Self.quoted(value))"
                    let result = await Self.run(statement)
                    runs += 1
                    if result.outcome != .completed {
                        #expect(!result.err.isEmpty, "\(statement.prefix(120)): failed without a message")
                        #expect(!result.err.contains("internal error"), "\(statement.prefix(120)): \(result.err.prefix(300))")
                    }
                }
            }
            // And the first positional itself.
            if !positionals.isEmpty {
                for value in Self.values {
                    let statement = ([path.joined(separator: " "), Self.quoted(value)] + positionals.dropFirst()).joined(separator: " ")
                    let result = await Self.run(statement)
                    runs += 1
                    if result.outcome != .completed {
                        #expect(!result.err.isEmpty, "\(statement.prefix(120)): failed without a message")
                    }
                }
            }
        }
        #expect(runs > 100)
    }

    @Test func numbersOutOfBoundsAreUsageErrorsNamingTheBound() async {
        let port = await Self.run("start s1 --port 0")
        #expect(port.outcome.exitCode == 1)
        #expect(port.err.contains("--port must be from 1 to 65535, not 0"), "\(port.err)")
        let big = await Self.run("start s1 --port \(Int64.max)")
        #expect(big.err.contains("--port must be from 1 to 65535"), "\(big.err)")
        let clients = await Self.run("benchmark commands -c 0")
        #expect(clients.err.contains("--clients must be from 1 to 1000, not 0"), "\(clients.err)")
        let timeout = await Self.run("save --timeout 30d")
        #expect(timeout.outcome.exitCode == 1)
        #expect(timeout.err.contains("--timeout must be from 1ms to 168h, not 30d"), "\(timeout.err)")
        let notDuration = await Self.run("verify-sync m r --timeout soon")
        #expect(notDuration.err.contains("--timeout takes a duration like 500ms, 5s or 1m, not \"soon\""), "\(notDuration.err)")
        let users = await Self.run("market reset --users 99999999999999999999")
        #expect(users.outcome.exitCode == 1)
        #expect(users.err.contains("market reset"), "\(users.err)")
        // connect and sleep took any number: a 0 reply timeout, a 1-byte reply bound, a
        // database past any server's, a sleep of centuries.
        for (statement, message) in [
            ("connect c 127.0.0.1:1 --timeout 0", "--timeout must be from 1ms to 168h, not 0"),
            ("connect c 127.0.0.1:1 --timeout 8d", "--timeout must be from 1ms to 168h, not 8d"),
            ("connect c 127.0.0.1:1 --max-reply-size 1b", "--max-reply-size must be from 1KB to 1024GB, not 1b"),
            ("connect c 127.0.0.1:1 --max-reply-size 2tb", "--max-reply-size must be from 1KB to 1024GB, not 2tb"),
            ("connect c 127.0.0.1:1 --db=-1", "--db must be from 0 to 1000000, not -1"),
            ("connect c 127.0.0.1:1 --db \(Int64.max)", "--db must be from 0 to 1000000, not \(Int64.max)"),
            // The two that used to crash: a reserveCapacity of the window, a Double to Int64.
            ("replay-until now --archive a --dry-run --window \(Int64.max)", "--window must be from 1 to 1000000, not \(Int64.max)"),
            ("replay-until @99999999999999999999 --archive a --dry-run", "\"@99999999999999999999\" is outside the times accepted"),
            ("sleep 8d", "sleep lasts at most 168h, not 8d"),
            ("sleep 99999999999999999999", "sleep takes a duration like 250ms, 2s or 1m, not \"99999999999999999999\""),
        ] {
            let run = await Self.run(statement)
            #expect(run.outcome.exitCode == 1, "\(statement): \(run.outcome)")
            #expect(run.err.contains(message), "\(statement): \(run.err)")
        }
    }
}
