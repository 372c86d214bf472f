import Foundation

/// The password of the first connection: `-a PASS`, `--askpass`, or REDISCLI_AUTH, as
/// redis-cli takes it.
enum CommandLinePassword {
    /// The environment variable the interpreter reads the password from (connect
    /// --password-env), so the password is never part of a statement's text.
    static let variable = "REDKEEP_FIRST_CONNECTION_PASSWORD"

    /// Overwrites the bytes of `-a PASS` / `--pass PASS` / `-aPASS` / `--pass=PASS` in the
    /// process's argv with `*`, so `ps` and /proc/PID/cmdline no longer show the password.
    /// (Between exec and this moment it was visible: hence redis-cli's warning.)
    static func scrub() {
        let argc = Int(CommandLine.argc)
        let argv = CommandLine.unsafeArgv
        var index = 1
        while index < argc {
            guard let word = argv[index] else { index += 1; continue }
            let text = String(cString: word)
            if (text == "-a" || text == "--pass"), index + 1 < argc, let value = argv[index + 1] {
                blank(value, from: 0)
                index += 2
                continue
            }
            if text.hasPrefix("--pass=") { blank(word, from: 7) }
            else if text.hasPrefix("-a"), text.count > 2, !text.hasPrefix("--") { blank(word, from: 2) }
            index += 1
        }
    }

    private static func blank(_ word: UnsafeMutablePointer<CChar>, from offset: Int) {
        let length = strlen(word)
        guard length > offset else { return }
        memset(word + offset, Int32(UInt8(ascii: "*")), length - offset)
    }

    /// Reads a password from the terminal without echo (`--askpass`), or a line from stdin
    /// when it is not a terminal. Nil at end of input.
    static func ask() -> String? {
        FileHandle.standardError.write(Data("Please input password: ".utf8))
        var saved = termios()
        let terminal = isatty(STDIN_FILENO) == 1 && tcgetattr(STDIN_FILENO, &saved) == 0
        if terminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if terminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        return Swift.readLine(strippingNewline: true)
    }
}
