import Demos
import Operations
import RESP

// What the demo commands (market, list-item, purchase, benchmark) share: parsing prices,
// turning their errors into script errors, and printing --explain.

/// A whole, non-negative price, or a clear error.
func demoPrice(_ words: [String], at location: SourceLocation) throws -> Int64 {
    guard words.count == 1 else {
        throw ShellError(.usage, words.isEmpty ? "the price is missing" : "one price expected, got \(words.joined(separator: " "))", at: location)
    }
    let text = words[0]
    guard let value = Int64(text) else {
        throw ShellError(.usage, "the price must be a whole number of e-dollars, not \"\(text)\"", at: location)
    }
    guard value >= 0 else {
        throw ShellError(.usage, "the price must be 0 or more, not \(value): a negative price would pay the buyer", at: location)
    }
    guard Bounds.money.contains(value) else {
        throw ShellError(.usage, "the price must be at most \(Bounds.money.upperBound) e-dollars, not \(value)", at: location)
    }
    return value
}

/// The demos' own errors as script errors at the statement; others as they are.
func demoError(_ error: any Error, at location: SourceLocation) -> any Error {
    switch error {
    case is MarketError, is BenchmarkError, is LabError: return ShellError.from(error, doing: "", at: location)
    default: return error
    }
}

extension Interpreter {
    /// `--explain`: each command and reply, printed in order (`> ` sent, `< ` answered); in
    /// JSON output they go into the report instead, so the output stays one JSON document.
    func explainTranscript(_ transcript: MarketTranscript?) -> [(String, RESPValue)] {
        guard let transcript else { return [] }
        let formatter = ReplyFormatter(mode: .human, color: false)
        if configuration.outputMode == .json {
            return [("transcript", .array(transcript.exchanges.map {
                .report([("command", .bulk($0.command.joined(separator: " "))), ("reply", $0.reply)])
            }))]
        }
        for exchange in transcript.exchanges {
            say("> " + exchange.command.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " "))
            let reply = formatter.format(exchange.reply, verbatim: false).split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in reply.enumerated() where !(line.isEmpty && i == reply.count - 1) {
                say((i == 0 ? "< " : "  ") + line)
            }
        }
        return []
    }
}
