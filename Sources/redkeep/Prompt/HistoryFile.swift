import Foundation

/// The history file on disk. Readline appends to it (append_history); this creates it
/// and trims it, entry by entry.
///
/// Why not history_truncate_file: it counts lines and may cut between a timestamp and its
/// entry, and a file that no longer starts with a timestamp is then read one line per
/// entry, splitting multi-line statements.
enum HistoryFile {
    /// Where history goes: $REDKEEP_HISTFILE (empty: no history file), else
    /// $HOME/.redkeep_history, else the account's home folder. $HOME wins over the account
    /// database, as for bash and redis-cli, so `HOME=/elsewhere redkeep` keeps its own.
    static func defaultPath(environment: [String: String]) -> String? {
        if let chosen = environment["REDKEEP_HISTFILE"] { return chosen.isEmpty ? nil : chosen }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".redkeep_history")
    }

    /// Makes the file (0600: statements name keys and hosts) and its folder (0700) when
    /// missing, since append_history opens without O_CREAT. Returns 0 or an errno.
    static func create(_ path: String) -> Int32 {
        if access(path, F_OK) == 0 { return 0 }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errno }
        close(fd)
        return 0
    }

    /// True for a line readline takes for a timestamp (`#` then digits): such a line can
    /// not be stored as (part of) an entry.
    static func isTimestamp<Line: Collection<UInt8>>(_ line: Line) -> Bool {
        line.first == UInt8(ascii: "#") && line.count > 1 && line.dropFirst().allSatisfy { (0x30...0x39).contains($0) }
    }

    /// Keeps the last `limit` entries (an entry: a timestamp line and the lines up to the
    /// next one, or a single line without timestamp), every one with a timestamp, written
    /// to a new file renamed over the old one. Nothing is written while within the limit.
    /// Returns 0 or an errno.
    static func trim(_ path: String, to limit: Int) -> Int32 {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let data = FileManager.default.contents(atPath: target) else { return EIO }
        var lines = Array(data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var entries: [[ArraySlice<UInt8>]] = []
        for line in lines {
            if isTimestamp(line) || entries.last.map({ !isTimestamp($0[0]) }) ?? true {
                entries.append([line])
            } else {
                entries[entries.count - 1].append(line)  // continues a timestamped entry
            }
        }
        guard entries.count > limit else { return 0 }
        let stamp = Array("#\(Int(Date().timeIntervalSince1970))".utf8)[...]
        var out: [UInt8] = []
        for entry in entries.suffix(limit) {
            for line in isTimestamp(entry[0]) ? entry : [stamp] + entry {
                out += line
                out.append(UInt8(ascii: "\n"))
            }
        }
        let temporary = target + ".trim-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errno }
        let written = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let error = written == out.count ? 0 : (written < 0 ? errno : EIO)
        close(fd)
        guard error == 0, rename(temporary, target) == 0 else {
            let failure = error != 0 ? error : errno
            unlink(temporary)
            return failure
        }
        return 0
    }
}
