import Foundation

/// Why a ``PseudoTerminal`` call failed, with what the terminal showed so far.
struct PseudoTerminalError: Error, CustomStringConvertible {
    let description: String
}

/// A program running on its own pseudo-terminal, driven like a user at a keyboard: for
/// testing what only happens on a terminal (line editing, Ctrl-C, Ctrl-D, Tab, prompts).
///
/// The child is the leader of a new session whose controlling terminal is the pty, so
/// Ctrl-C sent as a byte becomes SIGINT through the terminal, as for a real user. Output
/// is read only while a method waits (no thread): with `poll` on the master, and kept
/// with ANSI escape sequences and BEL removed and `\r\n` turned into `\n`.
/// Not thread-safe: use one from one test.
final class PseudoTerminal {
    /// The child's process id (also its session and process group id).
    let pid: pid_t
    private let master: Int32
    private var stripper = TerminalTextFilter()
    /// Output so far, filtered (UTF-8 bytes).
    private var seen: [UInt8] = []
    /// Where the next ``expect(_:timeout:)`` starts searching in `seen`.
    private var cursor = 0
    private var masterClosed = false
    /// Set once the master reports end of output (every holder of the slave closed it).
    private var endOfOutput = false
    private var status: Int32?

    /// Starts `executable` (a path; argv[0] is `executable`) with `arguments` and exactly
    /// `environment`, on a new 80x24 pty, as a session leader with the pty as controlling
    /// terminal and stdin/stdout/stderr, default signal dispositions and no blocked signals.
    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        master = PTYFunctions.posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw PseudoTerminalError(description: "posix_openpt: \(Self.errorText())") }
        var name = [CChar](repeating: 0, count: 256)
        guard PTYFunctions.grantpt(master) == 0, PTYFunctions.unlockpt(master) == 0,
            PTYFunctions.ptsnameR(master, &name, name.count) == 0
        else {
            let error = PseudoTerminalError(description: "cannot set up the pty: \(Self.errorText())")
            close(master)
            throw error
        }
        let slaveName = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        // Held open until the child has opened the slave itself (posix_spawn returns after
        // the child's file actions ran): until then the master would report a hang-up.
        let slave = open(slaveName, O_RDWR | O_NOCTTY | O_CLOEXEC)
        defer { if slave >= 0 { close(slave) } }
        do {
            pid = try Self.spawn(executable, arguments, environment, slave: slaveName)
        } catch {
            close(master)
            throw error
        }
    }

    /// posix_spawn with a new session; opening the slave by path after setsid makes it
    /// the controlling terminal (forkpty cannot be used from Swift).
    private static func spawn(_ executable: String, _ arguments: [String], _ environment: [String: String], slave: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, slave, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        _ = PTYFunctions.addclosefrom?(&actions, 3)  // nothing of the test runner leaks
        // POSIX_SPAWN_SETSID (0x80, glibc >= 2.26) is a GNU extension Swift does not import.
        let setsid: Int32 = 0x80
        posix_spawnattr_setflags(&attributes, Int16(setsid | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)  // the test runner may ignore SIGINT or SIGPIPE; the child must not
        posix_spawnattr_setsigdefault(&attributes, &all)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw PseudoTerminalError(description: "cannot run \(executable): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    deinit { terminate() }

    /// Types `text`: "\t" is Tab, "\u{03}" Ctrl-C, "\u{04}" Ctrl-D, "\r" Enter.
    func send(_ text: String) {
        guard !masterClosed else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(master, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return  // the child is gone: nothing reads the keyboard any more
            }
            bytes = bytes.dropFirst(n)
        }
        pump(timeout: .zero)
    }

    /// Waits until `text` appears in the output after the previous expect, and returns
    /// the output from there up to the end of `text`. Throws after `timeout`, or when the
    /// output ends without it, saying what was seen.
    @discardableResult
    func expect(_ text: String, timeout: Duration = .seconds(10)) throws -> String {
        let needle = Array(text.utf8)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = find(needle) {
                let result = String(decoding: seen[cursor..<found], as: UTF8.self)
                cursor = found
                return result
            }
            let now = ContinuousClock.now
            guard now < deadline, !endOfOutput else {
                let why = endOfOutput ? "the output ended" : "\(timeout) passed"
                let since = String(decoding: seen[cursor...], as: UTF8.self)
                throw PseudoTerminalError(description: "\(why) without \(text.debugDescription); seen since the last match: \(since.debugDescription)")
            }
            pump(timeout: now.duration(to: deadline))
        }
    }

    /// Waits for the child to exit and returns its status: the exit code, or 128 + the
    /// signal that killed it (as a shell shows it). Throws after `timeout`.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(10)) throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while reap() == nil {
            let now = ContinuousClock.now
            guard now < deadline else {
                throw PseudoTerminalError(description: "still running after \(timeout); output: \(output.debugDescription)")
            }
            // Reading keeps a child that writes a lot from blocking on a full pty.
            pump(timeout: min(.milliseconds(20), now.duration(to: deadline)))
        }
        // What it wrote last may still be on its way through the pty.
        let drainDeadline = ContinuousClock.now + .milliseconds(500)
        while !endOfOutput, ContinuousClock.now < drainDeadline { pump(timeout: .milliseconds(20)) }
        return status!
    }

    /// Everything read so far, filtered. Reads what is already waiting first.
    var output: String {
        pump(timeout: .zero)
        return String(decoding: seen, as: UTF8.self)
    }

    /// The terminal's foreground process group: the child's pid while it reads the
    /// keyboard itself, another group while a shell runs a job. -1 once closed.
    var foregroundProcessGroup: pid_t { masterClosed ? -1 : tcgetpgrp(master) }

    /// Kills the child's process group (SIGKILL) if it still runs, reaps it and closes the
    /// pty. Safe to call more than once.
    func terminate() {
        if reap() == nil {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
            status = Self.decode(raw)
        }
        if !masterClosed {
            masterClosed = true
            close(master)
        }
    }

    /// The exit status once the child has exited (reaping it), else nil.
    private func reap() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        status = Self.decode(raw)
        return status
    }

    /// WIFEXITED/WEXITSTATUS/WTERMSIG, which are C macros Swift does not import.
    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    /// Reads whatever arrives within `timeout` (at least what is already there).
    private func pump(timeout: Duration) {
        guard !masterClosed, !endOfOutput else { return }
        var wait = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        var ms = Int32(clamping: timeout.wholeMilliseconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let ready = poll(&wait, 1, ms)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return }
            let n = read(master, &buffer, buffer.count)
            if n > 0 {
                seen += stripper.filter(buffer[0..<n])
                ms = 0  // then take whatever else is already there, without waiting
            } else if n < 0, errno == EINTR || errno == EAGAIN {
                continue
            } else {
                endOfOutput = true  // EIO: no process has the slave open any more
                return
            }
        }
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard !needle.isEmpty else { return cursor }
        guard seen.count - cursor >= needle.count else { return nil }
        for start in cursor...(seen.count - needle.count) where seen[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}

/// glibc's pty functions are XSI or GNU extensions that Swift's Glibc module does not
/// import; they are in libc all the same, so they are looked up at run time.
private enum PTYFunctions {
    static let posixOpenpt = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let grantpt = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let unlockpt = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)!
    static let ptsnameR = function("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32).self)!
    /// glibc >= 2.34 only; without it the child may inherit some of the runner's descriptors.
    static let addclosefrom = function(
        "posix_spawn_file_actions_addclosefrom_np",
        as: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)

    private static func function<T>(_ name: String, as type: T.Type) -> T? {
        guard let symbol = dlsym(nil, name) else { return nil }  // nil is RTLD_DEFAULT
        return unsafeBitCast(symbol, to: type)
    }
}

/// Turns what a terminal receives into the text a user reads: drops escape sequences
/// (CSI `ESC [ ... final`, OSC and other strings up to BEL or `ESC \`, two-byte escapes,
/// charset selections) and BEL; turns `\r\n` into `\n` and drops a carriage return that
/// changes nothing (at the start of a line, as readline writes after each line). Keeps
/// its state between chunks, since a sequence may be split across reads.
struct TerminalTextFilter {
    private enum State { case text, escape, csi, string, stringEscape, charset }
    private var state = State.text
    /// A carriage return not yet written: it disappears if a newline follows.
    private var pendingReturn = false
    private var atLineStart = true

    mutating func filter(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            switch state {
            case .text:
                text(b, into: &out)
            case .escape:
                switch b {
                case 0x5B: state = .csi  // [
                case 0x5D, 0x50, 0x58, 0x5E, 0x5F: state = .string  // ] P X ^ _
                case 0x28, 0x29, 0x2A, 0x2B: state = .charset  // ( ) * +
                default: state = .text
                }
            case .csi:
                if (0x40...0x7E).contains(b) { state = .text }
            case .string:
                if b == 0x07 { state = .text } else if b == 0x1B { state = .stringEscape }
            case .stringEscape:
                state = b == 0x5C ? .text : .string
            case .charset:
                state = .text
            }
        }
        return out
    }

    private mutating func text(_ b: UInt8, into out: inout [UInt8]) {
        switch b {
        case 0x1B: state = .escape
        case 0x07: break
        case 0x0D: pendingReturn = true
        case 0x0A:
            pendingReturn = false
            out.append(b)
            atLineStart = true
        default:
            if pendingReturn, !atLineStart { out.append(0x0D) }
            pendingReturn = false
            out.append(b)
            atLineStart = false
        }
    }
}
