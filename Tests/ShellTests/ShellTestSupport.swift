import Foundation
import RESP
import Synchronization
import Testing

@testable import Shell

/// Collects what an interpreter prints.
final class CapturedOutput: ShellOutput {
    private let out = Mutex("")
    private let err = Mutex("")
    private let both = Mutex("")

    func write(_ text: String) { out.withLock { $0 += text }; both.withLock { $0 += text } }
    func write(bytes: [UInt8]) { write(String(decoding: bytes, as: UTF8.self)) }
    func writeError(_ text: String) { err.withLock { $0 += text }; both.withLock { $0 += text } }

    var standardOutput: String { out.withLock { $0 } }
    var standardError: String { err.withLock { $0 } }
    /// Both, in the order they were written (as `2>&1` would show them).
    var interleaved: String { both.withLock { $0 } }
}

/// Runs `text` as a script named `name` on a fresh interpreter (no server involved unless
/// the text starts one) and returns the outcome and what was printed.
func runScript(_ text: String, name: String = "test.rk", arguments: [String] = ["test.rk"],
               mode: OutputMode = .raw, interactive: Bool = false) async -> (outcome: RunOutcome, out: String, err: String) {
    let output = CapturedOutput()
    var configuration = Interpreter.Configuration(output: output, outputMode: mode, arguments: arguments, interactive: interactive)
    configuration.environment = ProcessInfo.processInfo.environment
    let interpreter = Interpreter(configuration)
    let outcome = await interpreter.run(text, name: name)
    await interpreter.shutdown(keepServers: false)
    return (outcome, output.standardOutput, output.standardError)
}

/// Parses `text`, returning the statements or the error.
func parse(_ text: String) -> Result<[Statement], ShellError> {
    Result { () throws(ShellError) in try Parser.parse(SourceFile(name: "t.rk", text: text)) }
}

/// The words of each statement as literal text ("<sub>" for substitutions).
func shape(_ statements: [Statement]) -> [[String]] {
    statements.map { $0.words.map { $0.literalText ?? "<sub>" } }
}
