import Foundation
import Operations
import RESP
import RedisClient

/// Real faults for the persistence tests. The tests run as root (as CI does), and root
/// ignores permission bits, so a "read-only folder" is made with the immutable attribute
/// (`chattr +i`, which stops root too on ext4 and tmpfs) and a "full disk" is a tiny tmpfs.
enum PersistenceFaults {
    /// Runs `body` with `folder` immutable: nothing can be created, renamed or removed in it.
    static func withImmutable<T>(_ folder: String, _ body: () async throws -> T) async throws -> T {
        try run("/usr/bin/chattr", ["+i", folder])
        do {
            let result = try await body()
            try run("/usr/bin/chattr", ["-i", folder])
            return result
        } catch {
            try? run("/usr/bin/chattr", ["-i", folder])
            throw error
        }
    }

    /// Runs `body` with a tmpfs of `size` (like "64k") mounted on `folder`.
    static func withTinyDisk<T>(_ folder: String, size: String, _ body: () async throws -> T) async throws -> T {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", folder])
        do {
            let result = try await body()
            try run("/bin/umount", [folder])
            return result
        } catch {
            try? run("/bin/umount", ["-l", folder])
            throw error
        }
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LabError("\(executable) \(arguments.joined(separator: " ")) failed (these tests need root, as in CI): \(message)")
        }
    }
}

/// A fresh temporary folder.
func temporaryFolder(_ label: String) throws -> String {
    let folder = NSTemporaryDirectory() + "redkeep-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

/// The names in a folder (none when it is missing).
func folderContents(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

extension RedisConnection {
    /// Writes `count` keys of `valueSize` bytes with a pipeline.
    func fill(_ count: Int, prefix: String = "key", valueSize: Int = 16) async throws {
        var commands: [RESPCommand] = []
        for i in 0..<count {
            let value = String(repeating: Character(UnicodeScalar(UInt8(97 + i % 26))), count: valueSize)
            commands.append(["SET", .string("\(prefix):\(i)"), .string(value)])
            if commands.count == 500 { _ = try await pipeline(commands); commands = [] }
        }
        if !commands.isEmpty { _ = try await pipeline(commands) }
    }

    /// DBSIZE.
    func dbsize() async throws -> Int { try await send(["DBSIZE"]).int ?? -1 }
}
