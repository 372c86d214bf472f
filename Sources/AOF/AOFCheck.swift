import Foundation

/// What redis-check-aof does, read-only: checks an AOF folder (its manifest, then the base
/// and incr files in load order) or a single file, and reports the first place Redis would
/// refuse, with the file, byte offset and reason, and how far each file is valid.
///
/// Checked: the manifest's rules (``AOFManifest/parse(_:name:)``) and that each file it
/// lists exists; an RDB part's magic, version and CRC-64 trailer; every command's RESP
/// framing; MULTI/EXEC nesting, and a transaction left open at the end of a file. Memory
/// stays bounded by the read block and the largest command, whatever the file's size.
public enum AOFCheck {
    /// Checks `path`: a folder holding a manifest, a manifest file, or a single AOF or RDB
    /// file. Throws only when `path` itself cannot be used (missing, or a folder without a
    /// manifest); problems in the AOF are in the report.
    public static func check(path: String) throws(AOFError) -> AOFCheckReport {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw AOFError(.io, "no such file or folder", file: path)
        }
        if isFolder.boolValue {
            return try checkFolder(path, manifestPath: try findManifest(in: path))
        }
        if path.hasSuffix(".manifest") {
            return try checkFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path, manifestPath: path)
        }
        var report = AOFCheckReport()
        let file = checkFile(path: path, name: path, type: nil)
        report.problem = file.problem
        report.files = [file]
        return report
    }

    /// The one `*.manifest` in `folder`.
    static func findManifest(in folder: String) throws(AOFError) -> String {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) }
        catch { throw AOFError(.io, "cannot list the folder: \((error as NSError).localizedDescription)", file: folder) }
        let manifests = names.filter { $0.hasSuffix(".manifest") }.sorted()
        guard manifests.count == 1 else {
            throw AOFError(.manifest, manifests.isEmpty
                           ? "no *.manifest file in this folder: give the appenddirname folder of a Redis 7 server, or a single AOF file"
                           : "more than one manifest (\(manifests.joined(separator: ", "))): give the one to check",
                           file: folder)
        }
        return folder + "/" + manifests[0]
    }

    static func checkFolder(_ folder: String, manifestPath: String) throws(AOFError) -> AOFCheckReport {
        var report = AOFCheckReport()
        report.manifestPath = manifestPath
        let manifest: AOFManifest
        do {
            manifest = try AOFManifest.load(manifestPath)
        } catch {
            if error.kind == .io { throw error }
            report.problem = error
            return report
        }
        report.manifest = manifest
        report.historyFiles = manifest.history.map(\.name)
        let listed = Set(manifest.files.map(\.name))
        let manifestName = URL(fileURLWithPath: manifestPath).lastPathComponent
        report.unlistedFiles = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !listed.contains($0) && $0 != manifestName }.sorted()
        let loaded = (manifest.base.map { [$0] } ?? []) + manifest.incrs
        // Redis refuses to start when a listed file is missing, before reading any of them.
        for listed in loaded where !FileManager.default.fileExists(atPath: folder + "/" + listed.name) {
            report.problem = AOFError(.manifest, "\(listed.name) (type \(listed.type.rawValue), seq \(listed.seq)) is listed in the manifest but missing from \(folder)",
                                      file: manifestPath)
            return report
        }
        for listed in loaded {
            let file = checkFile(path: folder + "/" + listed.name, name: listed.name, type: listed.type)
            report.files.append(file)
            if let problem = file.problem {
                report.problem = problem
                break
            }
        }
        return report
    }

    /// Checks one file; never throws (a problem, read errors included, is in the result).
    public static func checkFile(path: String, name: String, type: AOFManifest.FileType?) -> AOFCheckReport.File {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var file = AOFCheckReport.File(name: name, path: path, type: type, format: nil, size: size, validLength: 0)
        var start = 0
        do {
            if try startsWithRDB(path) {
                file.format = .rdb
                let rdb = try RDBTrailerCheck.check(path: path)
                file.rdbLength = rdb.length
                file.validLength = rdb.length
                start = rdb.length
                if rdb.length < size { file.format = .rdbPreamble }
            } else {
                file.format = .aof
            }
        } catch {
            file.problem = error.inFile(name)
            return file
        }
        let reader: AOFFileReader
        do { reader = try AOFFileReader(path: path, from: start) } catch {
            file.problem = error.inFile(name)
            return file
        }
        var tracker = AOFTransactionTracker()
        file.validLength = start
        do {
            while let entry = try reader.next() {
                switch entry.kind {
                case .command: file.commands += 1
                case .timestamp(let seconds):
                    file.timestamps += 1
                    if file.firstTimestamp == nil { file.firstTimestamp = seconds }
                    file.lastTimestamp = seconds
                case .annotation: break
                }
                do {
                    if case .committed = try tracker.observe(entry) { file.transactions += 1 }
                } catch {
                    // Nested MULTI: keep up to the open one; EXEC without MULTI: up to it.
                    file.validLength = tracker.open?.offset ?? entry.offset
                    file.problem = error.inFile(name)
                    return file
                }
                if !tracker.isInsideTransaction { file.validLength = entry.endOffset }
            }
            if reader.pendingBytes > 0 {
                file.problem = AOFError(.truncated, "the file ends inside a command: the last \(reader.pendingBytes) bytes do not make a whole command",
                                        file: name, offset: reader.offset)
            } else if let open = tracker.open {
                file.problem = AOFError(.truncated, "the file ends inside the transaction that began at byte \(open.offset) (MULTI with \(open.commands) commands and no EXEC)",
                                        file: name, offset: open.offset)
            }
        } catch {
            file.problem = error.inFile(name)
        }
        return file
    }

    static func startsWithRDB(_ path: String) throws(AOFError) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AOFError(.io, "cannot open: \(String(cString: strerror(errno)))", file: path)
        }
        defer { try? handle.close() }
        let prefix: Data? = try? handle.read(upToCount: 5)
        return RDBTrailerCheck.looksLikeRDB(prefix ?? Data())
    }
}
