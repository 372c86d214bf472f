import Foundation

/// The manifest of a Redis 7+ multi-part AOF (`appendonly.aof.manifest` in the
/// `appenddirname` folder): which base, history and incr files make up the AOF, in order.
///
/// ```
/// file appendonly.aof.1.base.rdb seq 1 type b
/// file appendonly.aof.1.incr.aof seq 1 type i
/// ```
/// Parsing enforces the rules Redis's loader enforces (aofLoadManifestFromFile), with the
/// same meaning, so a manifest this accepts is one Redis would load.
public struct AOFManifest: Sendable, Hashable {
    /// The role of a file.
    public enum FileType: String, Sendable, Hashable {
        /// The base: an RDB (`aof-use-rdb-preamble yes`) or AOF snapshot of the data set.
        case base = "b"
        /// A file replaced by a rewrite, waiting for background deletion.
        case history = "h"
        /// Commands appended after the base, in `seq` order.
        case incr = "i"
    }

    /// One `file` line.
    public struct File: Sendable, Hashable {
        /// The file name, inside the AOF folder (never a path).
        public var name: String
        /// Its sequence number.
        public var seq: Int64
        /// Its role.
        public var type: FileType
        /// Redis 7.4+ (`startoffset`): the replication offset where the file starts.
        public var startOffset: Int64?
        /// Redis 7.4+ (`endoffset`).
        public var endOffset: Int64?

        /// Creates a file line.
        public init(name: String, seq: Int64, type: FileType, startOffset: Int64? = nil, endOffset: Int64? = nil) {
            self.name = name
            self.seq = seq
            self.type = type
            self.startOffset = startOffset
            self.endOffset = endOffset
        }

        /// True for an RDB base (`.rdb`), false for a base of commands (`.aof`).
        public var isRDB: Bool { name.hasSuffix(".rdb") }
    }

    /// Every file, in manifest order.
    public var files: [File]

    /// Creates a manifest from its files.
    public init(files: [File]) { self.files = files }

    /// The base file, if any (at most one).
    public var base: File? { files.first { $0.type == .base } }
    /// The incr files, in sequence order: the commands after the base.
    public var incrs: [File] { files.filter { $0.type == .incr } }
    /// History files (left over from rewrites).
    public var history: [File] { files.filter { $0.type == .history } }
    /// The incr file Redis appends to now: the last one.
    public var currentIncr: File? { incrs.last }

    /// The manifest's file name for an `appendfilename` (`appendonly.aof.manifest`).
    public static func fileName(appendFilename: String = "appendonly.aof") -> String { appendFilename + ".manifest" }

    /// Reads `path` and parses it.
    public static func load(_ path: String) throws(AOFError) -> AOFManifest {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AOFError(.io, "cannot read the manifest: \((error as NSError).localizedDescription)", file: path)
        }
        return try parse(text, name: path)
    }

    /// Parses manifest text; errors name `name` and the line.
    public static func parse(_ text: String, name: String = "manifest") throws(AOFError) -> AOFManifest {
        var files: [File] = []
        var lineNumber = 0
        var sawBase = false
        var lastIncr: Int64?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            func fail(_ reason: String) -> AOFError { AOFError(.manifest, reason, file: name, offset: lineNumber) }
            guard let words = splitArguments(trimmed) else { throw fail("unbalanced quotes in \"\(trimmed)\"") }
            guard words.count >= 6, words.count % 2 == 0 else {
                throw fail("a line must be pairs of key and value with at least file, seq and type: \"\(trimmed)\"")
            }
            var fileName: String?
            var seq: Int64?
            var type: FileType?
            var start: Int64?
            var end: Int64?
            for i in stride(from: 0, to: words.count, by: 2) {
                let value = words[i + 1]
                switch words[i] {
                case "file": fileName = value
                case "seq":
                    guard let n = Int64(value), n >= 0 else { throw fail("seq must be a whole number, not \"\(value)\"") }
                    seq = n
                case "type":
                    guard let t = FileType(rawValue: value) else { throw fail("unknown AOF file type \"\(value)\" (b, h or i)") }
                    type = t
                case "startoffset": start = Int64(value)
                case "endoffset": end = Int64(value)
                default: break  // Redis ignores keys it does not know, for forward compatibility
                }
            }
            guard let fileName, let seq, let type else { throw fail("a line needs file, seq and type: \"\(trimmed)\"") }
            guard !fileName.isEmpty, !fileName.contains("/") else { throw fail("the file \"\(fileName)\" must be a name in the AOF folder, not a path") }
            switch type {
            case .base:
                guard !sawBase else { throw fail("a second base file (\(fileName)): a manifest has at most one") }
                sawBase = true
            case .incr:
                if let lastIncr, seq <= lastIncr {
                    throw fail("incr file \(fileName) has seq \(seq), not above the previous incr's \(lastIncr) (sequence numbers must increase)")
                }
                lastIncr = seq
            case .history: break
            }
            files.append(File(name: fileName, seq: seq, type: type, startOffset: start, endOffset: end))
        }
        guard !files.isEmpty else { throw AOFError(.manifest, "the manifest lists no files", file: name) }
        guard files.contains(where: { $0.type != .history }) else {
            throw AOFError(.manifest, "the manifest lists only history files: nothing to load", file: name)
        }
        return AOFManifest(files: files)
    }

    /// The manifest as Redis writes it: base first, then history, then incr files.
    public func render() -> String {
        var out = ""
        for file in files.filter({ $0.type == .base }) + history + incrs {
            out += "file \(Self.quotedIfNeeded(file.name)) seq \(file.seq) type \(file.type.rawValue)"
            if let s = file.startOffset {
                out += " startoffset \(s)"
                if let e = file.endOffset { out += " endoffset \(e)" }
            }
            out += "\n"
        }
        return out
    }

    /// A name as Redis writes it: bare, or quoted with escapes when it has blanks, quotes
    /// or unprintable bytes (sdscatrepr).
    static func quotedIfNeeded(_ name: String) -> String {
        let needs = name.utf8.contains { $0 <= 0x20 || $0 >= 0x7F || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }
        guard needs else { return name }
        var out = "\""
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return out + "\""
    }

    /// Splits a line into words the way Redis's sdssplitargs does: blanks separate words,
    /// "double quotes" take \n \r \t \b \a \xHH \" \\ escapes, 'single quotes' take \'.
    /// Nil for unbalanced quotes or a closing quote not followed by a blank.
    static func splitArguments(_ line: String) -> [String]? {
        let bytes = Array(line.utf8)
        var words: [String] = []
        var i = 0
        func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x66).contains(b | 0x20) }
        func hex(_ b: UInt8) -> UInt8 { b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10 }
        while true {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
            guard i < bytes.count else { return words }
            var current: [UInt8] = []
            var inDouble = false, inSingle = false, done = false
            while !done {
                if inDouble {
                    guard i < bytes.count else { return nil }
                    let b = bytes[i]
                    if b == UInt8(ascii: "\\"), i + 3 < bytes.count, bytes[i + 1] == UInt8(ascii: "x"), isHex(bytes[i + 2]), isHex(bytes[i + 3]) {
                        current.append(hex(bytes[i + 2]) * 16 + hex(bytes[i + 3]))
                        i += 3
                    } else if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        i += 1
                        switch bytes[i] {
                        case UInt8(ascii: "n"): current.append(0x0A)
                        case UInt8(ascii: "r"): current.append(0x0D)
                        case UInt8(ascii: "t"): current.append(0x09)
                        case UInt8(ascii: "b"): current.append(0x08)
                        case UInt8(ascii: "a"): current.append(0x07)
                        default: current.append(bytes[i])
                        }
                    } else if b == UInt8(ascii: "\"") {
                        if i + 1 < bytes.count, bytes[i + 1] != 0x20, bytes[i + 1] != 0x09 { return nil }
                        done = true
                    } else {
                        current.append(b)
                    }
                } else if inSingle {
                    guard i < bytes.count else { return nil }
                    let b = bytes[i]
                    if b == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "'") {
                        i += 1
                        current.append(UInt8(ascii: "'"))
                    } else if b == UInt8(ascii: "'") {
                        if i + 1 < bytes.count, bytes[i + 1] != 0x20, bytes[i + 1] != 0x09 { return nil }
                        done = true
                    } else {
                        current.append(b)
                    }
                } else {
                    guard i < bytes.count else { done = true; break }
                    switch bytes[i] {
                    case 0x20, 0x09: done = true
                    case UInt8(ascii: "\""): inDouble = true
                    case UInt8(ascii: "'"): inSingle = true
                    default: current.append(bytes[i])
                    }
                }
                if i < bytes.count { i += 1 }
            }
            words.append(String(decoding: current, as: UTF8.self))
        }
    }
}
