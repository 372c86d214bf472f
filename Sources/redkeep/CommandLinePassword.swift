import Foundation
import Shell

/// The password of the first connection: `-a PASS`, `--askpass`, or REDISCLI_AUTH, as
/// redis-cli takes it.
enum CommandLinePassword {
    /// The environment variable the interpreter reads the password from (connect
    /// --password-env), so the password is never part of a statement's text.
    static let variable = "REDKEEP_FIRST_CONNECTION_PASSWORD"

    /// Overwrites the bytes of `-a PASS` / `--pass PASS` / `-aPASS` / `--pass=PASS`, the
    /// password of a `-u`/`--url` URL and the secrets in `-c`/`--command` statements in the
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
            else if (text == "-u" || text == "--url" || text == "-c" || text == "--command"), index + 1 < argc, let value = argv[index + 1] {
                blankSecrets(value, from: 0, statements: text == "-c" || text == "--command")
                index += 2
                continue
            }
            else if text.hasPrefix("--url=") { blankSecrets(word, from: 6, statements: false) }
            else if text.hasPrefix("--command=") { blankSecrets(word, from: 10, statements: true) }
            index += 1
        }
    }

    /// Overwrites with `*` the passwords ``SecretFilter`` finds in `word` from byte
    /// `offset`: the password of a `-u redis://user:PASS@host` URL (user, host and port stay
    /// readable), and in `-c` statements every secret the history filter hides (`AUTH u PW`,
    /// `connect redis://u:PW@h`, `CONFIG SET masterauth PW`). In place and at the same length,
    /// since the kernel shows argv's bytes as they are. A word that is not valid UTF-8 is
    /// left alone: its offsets would not match the filter's.
    private static func blankSecrets(_ word: UnsafeMutablePointer<CChar>, from offset: Int, statements: Bool) {
        let length = strlen(word)
        guard length > offset else { return }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(word + offset).assumingMemoryBound(to: UInt8.self), count: length - offset)
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        for span in SecretFilter.secretByteRanges(in: text, commands: statements) where span.upperBound <= bytes.count && !span.isEmpty {
            memset(word + offset + span.lowerBound, Int32(UInt8(ascii: "*")), span.count)
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
