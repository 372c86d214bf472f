import AOF
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `aof check --fix`: writes a repaired copy of a checked AOF, never touching the source.
/// The file with the problem (which must be the last one loaded, as redis-check-aof also
/// requires) is cut where its valid part ends: before the bad or incomplete command, or
/// before the MULTI of a transaction it leaves open. For a folder, the manifest and the
/// other loaded files are copied whole into a new folder, built under a temporary name
/// and renamed, so the result is complete or absent.
public enum AOFRepair {
    /// What was written.
    public struct Result: Sendable, Hashable {
        /// The repaired file or folder.
        public var output: String
        /// The file that was cut.
        public var cutFile: String
        /// Where it was cut (its new size).
        public var cutAt: Int
        /// Bytes dropped from it.
        public var droppedBytes: Int
    }

    /// The default output: `<path>.fixed` (a trailing `/` ignored).
    public static func defaultOutput(for path: String) -> String {
        var p = path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p + ".fixed"
    }

    /// Writes the repaired copy of `report`'s AOF to `output` (which must not exist).
    public static func write(_ report: AOFCheckReport, to output: String) throws(PersistenceError) -> Result {
        guard let bad = report.problemFile, report.problem != nil else {
            throw PersistenceError(.refused, "nothing to fix: the AOF is valid")
        }
        guard report.isFixable else {
            throw PersistenceError(.refused, "cannot fix by cutting: \(report.unfixableReason ?? "the problem is not in a file")")
        }
        guard !FileManager.default.fileExists(atPath: output) else {
            throw PersistenceError(.file, "cannot write the repaired copy to \(output): it exists already (redkeep never overwrites)")
        }
        let result = Result(output: output, cutFile: bad.name, cutAt: bad.validLength, droppedBytes: bad.size - bad.validLength)
        guard let manifestPath = report.manifestPath else {
            try copy(bad.path, length: bad.validLength, to: output)
            return result
        }
        // A folder: build it under a temporary name beside the output, then rename it.
        let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
        var template = Array("\(parent)/.\(URL(fileURLWithPath: output).lastPathComponent).tmp-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw PersistenceError(.file, "cannot create a temporary folder in \(parent): \(String(cString: strerror(errno)))")
        }
        let temporary = String(cString: made)
        do {
            let manifestName = URL(fileURLWithPath: manifestPath).lastPathComponent
            // The manifest lists the files loaded; history files are left out of the copy.
            var manifest = report.manifest ?? AOFManifest(files: [])
            manifest.files.removeAll { $0.type == .history }
            do { try DurableFile.write(Array(manifest.render().utf8), to: temporary + "/" + manifestName) }
            catch { throw PersistenceError(.file, "cannot write the repaired manifest: \(error)") }
            for file in report.files {
                try copy(file.path, length: file.path == bad.path ? bad.validLength : file.size, to: temporary + "/" + file.name)
            }
            guard rename(temporary, output) == 0 else {
                throw PersistenceError(.file, "cannot rename \(temporary) to \(output): \(String(cString: strerror(errno)))")
            }
            DurableFile.syncFolder(parent)
        } catch let error as PersistenceError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw PersistenceError(.file, "cannot write the repaired copy to \(output): \(error)", underlying: error)
        }
        return result
    }

    /// Copies the first `length` bytes of `source` to `target` durably.
    static func copy(_ source: String, length: Int, to target: String) throws(PersistenceError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw PersistenceError(.file, "cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        if FileManager.default.fileExists(atPath: target) {
            throw PersistenceError(.file, "cannot write the repaired copy to \(target): it exists already (redkeep never overwrites)")
        }
        do {
            try DurableFile.writeUnhashed(to: target) { sink throws(DurableFile.WriteError) in
                let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
                defer { block.deallocate() }
                var left = length
                while left > 0 {
                    let n = read(input, block.baseAddress, min(left, block.count))
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        throw DurableFile.WriteError(path: source, reason: n == 0 ? "it is shorter than when it was checked" : String(cString: strerror(errno)))
                    }
                    try sink.append(raw: UnsafeRawBufferPointer(rebasing: block[0..<n]))
                    left -= n
                }
            }
        } catch {
            throw PersistenceError(.file, "cannot write the repaired copy: \(error)", underlying: error)
        }
    }
}
