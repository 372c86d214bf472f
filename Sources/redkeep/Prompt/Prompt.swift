import Foundation
import Shell
import Synchronization

/// The interactive prompt: reads statements with readline (on the main thread), runs
/// each on the interpreter, keeps history without secrets, and completes words.
struct Prompt {
    let interpreter: Interpreter

    /// Runs until Ctrl-D or `exit`; returns the exit code.
    func run() -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let historyPath = HistoryFile.defaultPath(environment: environment)
        let snapshot = Mutex(CompletionSnapshot())
        let editor = LineEditor(historyPath: historyPath) { line, word, start in
            let before = String(line.utf8.prefix(start)).map { $0 } ?? ""
            return snapshot.withLock { $0.candidates(before: String(before), word: word) }
        }
        let interpreter = self.interpreter
        while true {
            let prompt = blocking { await interpreter.prompt }
            var text = ""
            var interrupted = false
            while true {
                let shown = text.isEmpty ? prompt : String(repeating: " ", count: max(0, prompt.count - 4)) + "... "
                switch editor.readLine(prompt: shown) {
                case .endOfFile:
                    if text.isEmpty { return 0 }
                    interrupted = true
                case .interrupted:
                    interrupted = true
                case .line(let line):
                    text += text.isEmpty ? line : "\n" + line
                }
                if interrupted || !Interpreter.isIncomplete(text) { break }
            }
            if interrupted || text.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            editor.remember(text)
            let running = TaskBox()
            let source = text
            let outcome = LineEditor.runBlocking({
                let task = Task { await interpreter.run(source, name: "<prompt>") }
                running.set(task)
                return await task.value
            }, onInterrupt: { running.cancel() })
            if case .exit(let code) = outcome { return code }
            let fresh = blocking { await interpreter.completionSnapshot() }
            snapshot.withLock { $0 = fresh }
        }
    }
}

/// The running statement's task, so Ctrl-C can cancel it.
final class TaskBox: Sendable {
    private let task = Mutex<Task<RunOutcome, Never>?>(nil)
    func set(_ t: Task<RunOutcome, Never>) { task.withLock { $0 = t } }
    func cancel() { task.withLock { $0?.cancel() } }
}
