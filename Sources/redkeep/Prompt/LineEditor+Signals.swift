@preconcurrency import CReadline
import Foundation

/// Signals while a line is edited, handled on the main thread after the ``SignalPipe``
/// reported them, never inside a signal handler.
extension LineEditor {
    /// What a signal means while a line is being edited.
    func handle(_ signal: Int32) {
        switch signal {
        case SIGINT:
            // As readline's own SIGINT handling does, but outside the handler; the cursor
            // first goes to the end of the line, so `^C` follows what was typed.
            rl_free_line_state()
            rl_callback_sigcleanup()
            rl_point = rl_end
            rl_redisplay()
            ReadlineGlue.write("^C")
            abandonLine(.interrupted)
        case SIGWINCH:
            rl_resize_terminal()
        case SIGTSTP:
            suspend()
        default:
            break
        }
    }

    /// Ends the line being edited with `result`: terminal restored, line cleared, handler
    /// removed (so the next readLine starts afresh).
    func abandonLine(_ result: LineResult) {
        rl_cleanup_after_signal()  // to the last row of a long line, terminal restored
        ReadlineGlue.write("\n")
        rl_replace_line("", 1)
        rl_point = 0
        rl_mark = 0
        rl_callback_handler_remove()
        ReadlineGlue.result = result
    }

    /// Ctrl-Z at the prompt: give the terminal back, stop, and redraw on `fg`.
    private func suspend() {
        rl_deprep_terminal()
        TerminalGuard.disarm()
        // Stop the way Ctrl-Z would have without our handler, then catch it again.
        signal(SIGTSTP, SIG_DFL)
        raise(SIGTSTP)  // stops here; returns on SIGCONT (at once in an orphaned group)
        _ = SignalPipe.catching(SIGTSTP)
        TerminalGuard.arm()
        rl_prep_terminal(1)
        rl_reset_screen_size()
        rl_forced_update_display()
    }
}
