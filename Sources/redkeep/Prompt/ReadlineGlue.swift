@preconcurrency import CReadline
import Foundation
import Synchronization

/// The state readline's C callbacks reach. C function pointers cannot capture context,
/// so it lives in globals; there is one terminal and one ``LineEditor``, and every access
/// is on the main thread (readline runs nowhere else), hence `nonisolated(unsafe)`.
enum ReadlineGlue {
    /// The editor's completer (set by ``LineEditor/init(historyPath:completer:)``).
    nonisolated(unsafe) static var completer: ((String, String, Int) -> [String])?
    /// What the line being read came to; nil while it is still being edited.
    nonisolated(unsafe) static var result: LineResult?
    /// The candidates of the completion in progress, handed out by ``nextCandidate``.
    nonisolated(unsafe) private static var candidates: [String] = []
    nonisolated(unsafe) private static var candidateIndex = 0

    /// Called by readline with the finished line (malloc'd, ours to free) or NULL on EOF.
    /// Removing the handler here stops readline from printing the prompt again at once.
    static let lineHandler: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void = { line in
        if let line {
            result = .line(String(cString: line))
            free(line)
        } else {
            // Ctrl-D leaves the cursor after the prompt; what follows must start a new line.
            // Readline >= 8.1 writes that newline itself when bracketed paste was on.
            if !readlineEndedTheLine { write("\n") }
            result = .endOfFile
        }
        rl_callback_handler_remove()
    }

    /// `rl_attempted_completion_function`: asks the Swift completer, and never lets
    /// readline fall back to completing file names.
    static let complete: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
        text, start, _ in
        rl_attempted_completion_over = 1
        guard let completer, let text else { return nil }
        let line = rl_line_buffer.map { String(cString: $0) } ?? ""
        candidates = completer(line, String(cString: text), Int(start))
        candidateIndex = 0
        guard !candidates.isEmpty else { return nil }
        // rl_completion_matches builds the NULL-terminated array readline frees, with the
        // longest common prefix first (honouring `completion-ignore-case`).
        return rl_completion_matches(text, nextCandidate)
    }

    /// The generator for rl_completion_matches: one strdup'd candidate per call.
    private static let nextCandidate: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = {
        _, state in
        if state == 0 { candidateIndex = 0 }
        guard candidateIndex < candidates.count else { return nil }
        defer { candidateIndex += 1 }
        return strdup(candidates[candidateIndex])
    }

    /// True when readline printed a newline itself on EOF (it does when it turned off
    /// bracketed paste, whose closing sequence ends with a carriage return).
    private static var readlineEndedTheLine: Bool {
        guard rl_readline_version >= 0x0801, let value = rl_variable_value("enable-bracketed-paste") else { return false }
        return String(cString: value) == "on"
    }

    /// Writes `text` where readline draws, in order with its own output.
    static func write(_ text: String) {
        let stream = rl_outstream ?? stdout
        fputs(text, stream)
        fflush(stream)
    }
}

/// Puts the terminal back as it was when the process exits while readline has it in raw
/// mode (an `exit` from a SIGTERM handler on another thread, or the second Ctrl-C), so the
/// user's shell is not left without echo.
enum TerminalGuard {
    nonisolated(unsafe) private static var saved = termios()
    private static let armed = Atomic<Bool>(false)
    nonisolated(unsafe) private static var registered = false

    /// Remembers the current settings of stdin; call just before readline changes them.
    static func arm() {
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return }
        if !registered {
            registered = true
            atexit { TerminalGuard.restoreAtExit() }
        }
        armed.store(true, ordering: .releasing)
    }

    /// Readline has put the terminal back itself.
    static func disarm() { armed.store(false, ordering: .releasing) }

    private static func restoreAtExit() {
        guard armed.exchange(false, ordering: .acquiringAndReleasing) else { return }
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }
}
