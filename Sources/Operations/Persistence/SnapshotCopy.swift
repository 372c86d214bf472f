import AOF
import Crypto
import Foundation
import RedisClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A snapshot copied off a server: `DIR/<name>-<UTC time>.rdb` with a `.sha256` file
/// beside it (sha256sum's format), both written durably (``DurableFile``), the copy's
/// RDB header and trailer checked and its hash verified by reading it back. On any failure
/// both files are removed: nothing half-written is left.
public enum SnapshotCopy {
    /// What was written.
    public struct Result: Sendable, Hashable {
        /// The copy's path.
        public var path: String
        /// The `.sha256` file's path.
        public var checksumPath: String
        /// Its size.
        public var size: Int
        /// Its SHA-256, hex.
        public var sha256: String
        /// Where it came from: a path, or `replication from host:port`.
        public var source: String
        /// True once the copy was read back and matched its `.sha256` file.
        public var verified: Bool
    }

    /// `20261121T192005Z`: sortable, and free of `:` (which some file systems refuse).
    public static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// Throws unless `folder` is an existing folder.
    public static func checkTarget(_ folder: String) throws(PersistenceError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw PersistenceError(.file, "cannot copy the snapshot to \(folder): no such folder")
        }
    }

    /// Copies the dump at `source` (on this machine) into `folder`.
    public static func copyLocal(from source: String, server: RedisEndpoint, to folder: String, fileName: String) throws(PersistenceError) -> Result {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            let why = String(cString: strerror(errno))
            throw PersistenceError(.file, "cannot read the dump of \(server) at \(source) (CONFIG GET dir/dbfilename): \(why); if the server runs elsewhere (a container, another host), use --over-replication")
        }
        defer { close(input) }
        let target = folder + "/" + fileName
        try refuseExisting(target)
        var readFailure: String?
        let digest: String
        do {
            digest = try DurableFile.write(to: target) { sink throws(DurableFile.WriteError) in
                let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
                defer { block.deallocate() }
                while true {
                    let n = read(input, block.baseAddress, block.count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        readFailure = String(cString: strerror(errno))
                        throw DurableFile.WriteError(path: source, reason: readFailure!)
                    }
                    if n == 0 { break }
                    try sink.append(raw: UnsafeRawBufferPointer(rebasing: block[0..<n]))
                }
            }
        } catch {
            if let readFailure { throw PersistenceError(.file, "cannot read the dump of \(server) at \(source): \(readFailure)") }
            throw copyError(target, error)
        }
        return try finish(target, digest: digest, source: source)
    }

    /// Refuses to replace a file that exists (redkeep never overwrites a copy).
    static func refuseExisting(_ path: String) throws(PersistenceError) {
        if FileManager.default.fileExists(atPath: path) {
            throw PersistenceError(.file, "cannot copy the snapshot to \(path): it exists already (redkeep never overwrites)")
        }
    }

    /// Writes the `.sha256` of the copy at `target` (already durable), and verifies both;
    /// removes both on failure.
    static func finish(_ target: String, digest: String, source: String) throws(PersistenceError) -> Result {
        let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
        let checksumPath = target + ".sha256"
        let name = URL(fileURLWithPath: target).lastPathComponent
        do {
            try DurableFile.write(Array("\(digest)  \(name)\n".utf8), to: checksumPath)
        } catch {
            unlink(target)
            throw copyError(checksumPath, error)
        }
        do {
            let result = try verify(target)
            return Result(path: target, checksumPath: checksumPath, size: size, sha256: result, source: source, verified: true)
        } catch {
            unlink(target)
            unlink(checksumPath)
            throw error
        }
    }

    /// Checks a copy against its `.sha256` file and checks its RDB header and CRC-64
    /// trailer. Returns the hash.
    public static func verify(_ path: String) throws(PersistenceError) -> String {
        let checksumPath = path + ".sha256"
        guard let text = try? String(contentsOfFile: checksumPath, encoding: .utf8),
              let expected = text.split(separator: " ").first.map(String.init), expected.count == 64 else {
            throw PersistenceError(.file, "cannot verify \(path): \(checksumPath) is missing or not a SHA-256 line")
        }
        let actual: String
        do { actual = try DurableFile.sha256(ofFile: path) } catch { throw PersistenceError(.file, "cannot verify \(path): \(error.reason)") }
        guard actual == expected else {
            throw PersistenceError(.file, "the copy \(path) does not match its checksum: SHA-256 \(actual), \(checksumPath) says \(expected)")
        }
        do {
            let rdb = try RDBTrailerCheck.check(path: path)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            if let size, rdb.length != size {
                throw PersistenceError(.file, "the copy \(path) has \(size - rdb.length) bytes after the end of its RDB at byte \(rdb.length)")
            }
        } catch let error as AOFError {
            throw PersistenceError(.file, "the copy is not a valid RDB: \(error)", underlying: error)
        } catch let error as PersistenceError {
            throw error
        } catch {
            throw PersistenceError(.file, "cannot verify \(path): \(error)", underlying: error)
        }
        return actual
    }

    static func copyError(_ path: String, _ error: DurableFile.WriteError) -> PersistenceError {
        let full = error.reason.contains(String(cString: strerror(ENOSPC)))
        let hint = full ? " (the disk is full; nothing was left behind)" : ""
        return PersistenceError(.file, "cannot copy the snapshot to \(path): \(error.reason)\(hint)")
    }
}
