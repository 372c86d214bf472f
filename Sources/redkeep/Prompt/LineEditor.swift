@preconcurrency import CReadline
import Foundation
import Shell

/// What one prompt came to.
enum LineResult: Equatable {
    /// A line, without its newline.
    case line(String)
    /// Ctrl-C while editing: the line was dropped (`^C` was printed, like bash).
    case interrupted
    /// Ctrl-D on an empty line, or stdin closed.
    case endOfFile
}

/// The interactive line editor: GNU readline with history (kept free of secrets) and
/// completion, driven through readline's callback interface.
///
/// Why the callback interface: the main thread waits with `poll` on stdin *and* on the
/// ``SignalPipe``, so Ctrl-C and window resizes are handled on the main thread outside any
/// signal handler, and readline's own handlers (which call unsafe functions from the
/// handler in callback mode) stay off. Use one instance, on the main thread only; never
/// from a Swift task (readline keeps global state and owns the terminal).
final class LineEditor {
    /// How many history entries are kept, in memory and in the file.
    static let historyLimit: Int32 = 1000

    /// Where history is appended; nil for none.
    let historyFile: String?
    /// Set after the first failure to write history, so the warning shows once.
    var historyWarned = false

    /// `historyPath` nil = no history file; otherwise it is read now and appended to by
    /// ``remember(_:)``. `completer` gets the whole line, the word being completed (text
    /// from the word's start to the cursor; words are split at spaces) and the word's
    /// start as a UTF-8 byte offset into the line, and returns the candidates.
    init(historyPath: String?, completer: @escaping (_ lineBuffer: String, _ word: String, _ wordStart: Int) -> [String]) {
        self.historyFile = historyPath
        Self.configureReadline()
        ReadlineGlue.completer = completer
        if let historyPath {
            // Missing file: first run. Other errors show up when appending.
            _ = read_history(historyPath)
        }
        SignalPipe.install()
    }

    /// True when stdin and stdout are both a terminal: only then is there a prompt.
    static func isInteractiveTerminal() -> Bool {
        isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
    }

    /// One-time readline settings, before readline first initializes (which reads
    /// ~/.inputrc, whose `$if redkeep` sections then apply).
    private static func configureReadline() {
        // Readline handles UTF-8 only under a UTF-8 LC_CTYPE; Swift never calls setlocale,
        // so without this `é` would show as `\303\251`.
        setlocale(LC_CTYPE, "")
        if String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
        rl_readline_name = UnsafePointer(strdup("redkeep"))  // kept for the process's life
        // Readline sets these on first use only; rl_reset_screen_size needs them before.
        rl_instream = stdin
        rl_outstream = stdout
        rl_catch_signals = 0  // the SignalPipe does it (see the type's comment)
        rl_catch_sigwinch = 0
        rl_change_environment = 0  // no LINES/COLUMNS in the environment of child processes
        rl_attempted_completion_function = ReadlineGlue.complete
        rl_completer_word_break_characters = UnsafePointer(strdup(" "))
        rl_basic_word_break_characters = rl_completer_word_break_characters
        using_history()
        stifle_history(historyLimit)
        // Timestamp lines (`#1700000000`) in the file let a multi-line statement come back
        // as one entry: readline reads lines up to the next timestamp as one entry when the
        // file starts with one. Timestamps are only written with a comment character.
        history_write_timestamps = 1
        history_comment_char = CChar(UInt8(ascii: "#"))
    }

    /// Reads one line with readline, on the main thread. Ctrl-C while editing drops the
    /// line, prints `^C` and a newline, and returns `.interrupted`; Ctrl-D on an empty
    /// line returns `.endOfFile` (after a newline, so what follows starts on a fresh line).
    func readLine(prompt: String) -> LineResult {
        assert(Thread.isMainThread, "readline runs on the main thread only")
        SignalPipe.drain()  // a Ctrl-C pressed before the prompt appeared means nothing
        let winch = SignalPipe.catching(SIGWINCH)
        let tstp = SignalPipe.catching(SIGTSTP)
        defer {
            SignalPipe.restore(SIGWINCH, winch)
            SignalPipe.restore(SIGTSTP, tstp)
        }
        rl_reset_screen_size()  // the window may have changed while a statement ran
        ReadlineGlue.result = nil
        TerminalGuard.arm()
        defer { TerminalGuard.disarm() }
        rl_callback_handler_install(prompt, ReadlineGlue.lineHandler)
        while ReadlineGlue.result == nil {
            var fds = [
                pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
                pollfd(fd: SignalPipe.readFD, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                abandonLine(.endOfFile)
                break
            }
            if fds[1].revents != 0 {
                for signal in SignalPipe.drain() where ReadlineGlue.result == nil {
                    handle(signal)
                }
            }
            guard ReadlineGlue.result == nil else { break }
            if fds[0].revents & Int16(POLLNVAL) != 0 {
                abandonLine(.endOfFile)  // stdin was closed under us
            } else if fds[0].revents != 0 {
                // Readable, or hung up / error: readline reads EOF and says so.
                rl_callback_read_char()
            }
        }
        return ReadlineGlue.result ?? .endOfFile
    }
}
