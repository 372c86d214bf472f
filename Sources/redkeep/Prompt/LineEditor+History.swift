@preconcurrency import CReadline
import Foundation
import Shell

extension LineEditor {
    /// Adds `line` to the history, in memory and at once to the file (so a crash loses
    /// nothing), unless it is blank, repeats the previous entry, or holds a password
    /// (``SecretFilter/containsSecret(_:)``): those are never written anywhere. The file
    /// is kept to its last ``historyLimit`` lines and is created readable by its owner only.
    func remember(_ line: String) {
        guard !line.allSatisfy(\.isWhitespace), !SecretFilter.containsSecret(line) else { return }
        if let last = history_get(history_base + history_length - 1), let text = last.pointee.line,
            String(cString: text) == line
        {
            return
        }
        add_history(line)
        guard let path = historyFile else { return }
        var error = createIfMissing(path)
        if error == 0 { error = append_history(1, path) }
        if error == 0 { error = history_truncate_file(path, Self.historyLimit) }
        if error != 0 { warnOnce(path, error) }
    }

    /// append_history opens the file without O_CREAT; a new history file is private
    /// (0600), as statements name keys and hosts. A missing parent folder is made too.
    private func createIfMissing(_ path: String) -> Int32 {
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

    /// One line on stderr the first time history cannot be written; the prompt goes on.
    private func warnOnce(_ path: String, _ error: Int32) {
        guard !historyWarned else { return }
        historyWarned = true
        let message = "redkeep: cannot write history file \(path): \(String(cString: strerror(error)))\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}
