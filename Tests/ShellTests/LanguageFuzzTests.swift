import Foundation
import Testing

@testable import Shell

/// 10,000 random lines through the parser and the evaluator, with no server: nothing may
/// crash or hang, and every failure must be a ShellError with a location.
@Suite struct LanguageFuzzTests {
    /// Words that make structure, plus harmless statements. Words that would start
    /// servers, sleep long or write files (start, restart, sleep, record, source) are left
    /// out: their behaviour is tested elsewhere and here they would only cost time.
    static let vocabulary = [
        "let", "x", "=", "if", "else", "repeat", "2", "for", "in", "{", "}", "{", "}", ";", "\\\n",
        "assert", "wait-until", "--timeout", "10ms", "--every", "1ms", "echo", "exit", "option", "on-error",
        "continue", "output", "json", "pipeline", "multi", "transaction", "--watch", "abort", "help", "connections",
        "use", "disconnect", "@m", "redis", "GET", "SET", "k", "$x", "${x}", "${x.f}", "${x[1]}", "$(echo hi)", "$(",
        ")", "(", "$1", "$#", "\"", "'", "\"a b\"", "'c'", "\\x41", "\"\\xZZ\"", "==", "!=", "<", ">=", "and", "or",
        "not", "exists", "contains", "matches", "*", "#", "user:{42}", "", "é", "\u{0}", "0", "-1", "99999999999999999999",
    ]

    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomLine(_ rng: inout SplitMix) -> String {
        let count = Int.random(in: 1...12, using: &rng)
        var words: [String] = []
        for _ in 0..<count {
            if Int.random(in: 0..<6, using: &rng) == 0 {
                // Raw noise: random printable and control bytes.
                let length = Int.random(in: 1...6, using: &rng)
                words.append(String((0..<length).map { _ in Character(UnicodeScalar(UInt8.random(in: 1...126, using: &rng))) }))
            } else {
                words.append(vocabulary.randomElement(using: &rng)!)
            }
        }
        var line = words.joined(separator: Bool.random(using: &rng) ? " " : "")
        // wait-until's default timeout is 10 s; keep false conditions short.
        if line.contains("wait-until") { line += " --timeout 10ms" }
        return line
    }

    @Test func tenThousandRandomLinesNeitherCrashNorHang() async throws {
        var rng = SplitMix(state: 0x00C0_FFEE_2026)
        let output = CapturedOutput()
        let interpreter = Interpreter(Interpreter.Configuration(output: output, outputMode: .raw, arguments: ["fuzz.rk", "a"],
                                                                interactive: true, environment: [:]))
        var parsed = 0, failed = 0
        for i in 0..<10_000 {
            let line = Self.randomLine(&rng)
            switch parse(line) {
            case .success: parsed += 1
            case .failure(let error):
                failed += 1
                #expect(error.location != nil, "case \(i): \(line.debugDescription) gave an error with no location: \(error)")
            }
            // Evaluate with a deadline, so a hang shows up as a failure instead of a stuck run.
            let task = Task { await interpreter.run(line, name: "<prompt>") }
            let watchdog = Task {
                try await Task.sleep(for: .seconds(5))
                task.cancel()
                Issue.record("case \(i): \(line.debugDescription) ran for over 5 s")
            }
            _ = await task.value
            watchdog.cancel()
        }
        // The generator must exercise both paths.
        #expect(parsed > 1_000 && failed > 1_000, "parsed \(parsed), failed \(failed)")
        await interpreter.shutdown(keepServers: false)
    }

    /// The libFuzzer corpus (fuzz/corpus/language, with every input that once found a bug)
    /// through the parser and the secret filter, as the harness checks it: each parses or
    /// fails with a located error, and a line without secrets is not changed by redact.
    @Test func committedFuzzCorpusParsesOrFailsWithALocatedError() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fuzz/corpus/language").path
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names.count >= 10)
        for name in names {
            let text = try String(decoding: Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)), as: UTF8.self)
            if !SecretFilter.containsSecret(text) { #expect(SecretFilter.redact(text) == text, "\(name)") }
            if case .failure(let error) = parse(text) {
                #expect(error.location != nil, "\(name): \(error)")
            }
        }
    }
}
