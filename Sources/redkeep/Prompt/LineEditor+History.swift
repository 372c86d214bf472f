@preconcurrency import CReadline
import Foundation
import Shell

extension LineEditor {
    /// Adds `line` to the history, in memory and at once to the file (so a crash loses
    /// nothing), unless it is blank, repeats the previous entry, or holds a password
    /// (``SecretFilter/containsSecret(_:)``): those are never written anywhere. The file
    /// keeps the last ``historyLimit`` entries and is created readable by its owner only.
    /// A multi-line statement (lines joined with "\n") stays one entry.
    func remember(_ line: String) {
        guard !line.allSatisfy(\.isWhitespace), !SecretFilter.containsSecret(line) else { return }
        // A line like `#123` would read back as a timestamp and corrupt its neighbours.
        guard !line.utf8.split(separator: UInt8(ascii: "\n")).contains(where: HistoryFile.isTimestamp) else { return }
        if let last = history_get(history_base + history_length - 1), let text = last.pointee.line,
            String(cString: text) == line
        {
            return
        }
        add_history(line)
        guard let path = historyFile else { return }
        var error = HistoryFile.create(path)
        if error == 0 { error = append_history(1, path) }
        if error == 0 { error = HistoryFile.trim(path, to: Int(Self.historyLimit)) }
        if error != 0 { warnOnce(path, error) }
    }

    /// One line on stderr the first time history cannot be written; the prompt goes on.
    private func warnOnce(_ path: String, _ error: Int32) {
        guard !historyWarned else { return }
        historyWarned = true
        let message = "redkeep: cannot write history file \(path): \(String(cString: strerror(error)))\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}
