import Foundation
import FuzzSupport
import Shell

/// The lexer and parser, and the secret filter that reads the same lines: any text must
/// parse or fail with a located ShellError, never crash, hang or overflow the stack
/// (deep nesting is bounded by ``Parser/maxNesting``).
enum LanguageCheck {
    static func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        // History, record and error echoes pass every line through the filter.
        let redacted = SecretFilter.redact(text)
        if !SecretFilter.containsSecret(text) && redacted != text {
            fatalError("redact changed a line without secrets: \(text.debugDescription) -> \(redacted.debugDescription)")
        }
        let file = SourceFile(name: "fuzz.rk", text: text)
        do {
            visit(try Parser.parse(file))
        } catch {
            guard error.location != nil else { fatalError("an error without a location: \(error.message)") }
            // The message an operator sees: the line, redacted, with a caret.
            _ = error.description
        }
    }

    /// Reads back what a run reads of each statement: its text (echo, record), words and
    /// blocks. (Not its line and column: errors alone work those out, each by a scan.)
    static func visit(_ statements: [Statement]) {
        for statement in statements {
            _ = statement.text
            for word in statement.words {
                for part in word.parts {
                    if case .command(let inner, _) = part { visit(inner) }
                }
            }
            if let block = statement.block { visit(block) }
            switch statement.elseBranch {
            case .block(let block)?: visit(block)
            case .statement(let elseIf)?: visit([elseIf])
            case nil: break
            }
        }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    LanguageCheck.run(FuzzInput.bytes(data, size))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line.
@main enum FuzzLanguageReplay {
    static func main() {
        exit(FuzzInput.replay(Array(CommandLine.arguments.dropFirst()), LanguageCheck.run))
    }
}
#endif
