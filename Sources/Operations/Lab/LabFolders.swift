import Foundation
import Synchronization

/// The temporary folders Labs made, so a run ended by SIGTERM or SIGHUP removes them as
/// an orderly end (``Lab/shutdown(keepFiles:grace:)``) does. Synchronous, for signal paths.
public final class LabFolders: Sendable {
    /// The one registry of this process.
    public static let shared = LabFolders()
    private let folders = Mutex<Set<String>>([])

    func add(_ path: String) { folders.withLock { _ = $0.insert(path) } }
    func remove(_ path: String) { folders.withLock { _ = $0.remove(path) } }

    /// Removes every registered folder (after ``ProcessRegistry/stopAllNow(grace:)`` has
    /// stopped the servers writing into them).
    public func removeAllNow() {
        let all = folders.withLock { folders in
            defer { folders.removeAll() }
            return folders
        }
        for path in all { try? FileManager.default.removeItem(atPath: path) }
    }
}
