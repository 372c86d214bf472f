/// What ``AOFCheck`` found in an AOF folder or file.
public struct AOFCheckReport: Sendable {
    /// How a file's bytes are laid out.
    public enum Format: String, Sendable, Hashable {
        /// Commands only.
        case aof
        /// An RDB and nothing after it (a `.base.rdb`).
        case rdb
        /// An RDB followed by commands (a single-file AOF with `aof-use-rdb-preamble`).
        case rdbPreamble = "rdb+aof"
    }

    /// One checked file.
    public struct File: Sendable {
        /// Its name in the folder (or the path given, for a single file).
        public var name: String
        /// Its path.
        public var path: String
        /// Its role in the manifest (nil for a single file).
        public var type: AOFManifest.FileType?
        /// Its layout (nil when it could not be read).
        public var format: Format?
        /// Its size in bytes.
        public var size: Int
        /// Commands in it (MULTI and EXEC included), up to the first problem.
        public var commands: Int = 0
        /// Complete MULTI/EXEC blocks.
        public var transactions: Int = 0
        /// `#TS` annotations.
        public var timestamps: Int = 0
        /// The RDB part's length, when it has one.
        public var rdbLength: Int?
        /// The first and last `#TS` seconds seen.
        public var firstTimestamp: Int64?
        public var lastTimestamp: Int64?
        /// Where the valid part ends: everything before this offset loads (for a clean file,
        /// its size). A repair cuts the file here.
        public var validLength: Int
        /// The first problem in it, if any.
        public var problem: AOFError?
    }

    /// The manifest's path, for a folder.
    public var manifestPath: String?
    /// The manifest, when it parsed.
    public var manifest: AOFManifest?
    /// The files checked, in load order (base, then incr files).
    public var files: [File] = []
    /// History files the manifest lists (Redis does not load them; not checked).
    public var historyFiles: [String] = []
    /// Files in the folder the manifest does not list (a rewrite's leftovers, a copy put
    /// there by hand): Redis ignores them, so they are only reported.
    public var unlistedFiles: [String] = []
    /// The first problem, which is what Redis would stop at.
    public var problem: AOFError?

    /// True when Redis would load everything.
    public var isValid: Bool { problem == nil }

    /// The file holding the first problem, when it is a file's.
    public var problemFile: File? { files.first { $0.problem != nil } }

    /// True when cutting the file with the problem leaves an AOF Redis loads without
    /// losing any later file: the problem is in the last file the AOF loads (what
    /// redis-check-aof --fix also requires), and the file keeps a valid start.
    public var isFixable: Bool {
        guard let bad = problemFile, isLastLoaded(bad) else { return false }
        if let rdb = bad.rdbLength { return bad.validLength >= rdb }
        return bad.format != .rdb && bad.format != nil
    }

    /// True for the last file the AOF loads (the checked files stop at the first problem,
    /// so the manifest says which is last).
    func isLastLoaded(_ file: File) -> Bool {
        guard let manifest else { return files.count == 1 }
        return file.name == (manifest.incrs.last ?? manifest.base)?.name
    }

    /// Why it cannot be fixed by cutting, for messages.
    public var unfixableReason: String? {
        guard let bad = problemFile else { return problem == nil ? "nothing to fix: the AOF is valid" : "the problem is in the manifest or a missing file, which cutting cannot fix" }
        if !isLastLoaded(bad) {
            return "the problem is in \(bad.name), which is not the last file the AOF loads: cutting it would silently drop the files after it"
        }
        if bad.format == nil || bad.format == .rdb || (bad.rdbLength != nil && bad.validLength < bad.rdbLength!) {
            return "the problem is in the RDB part of \(bad.name), which cannot be cut to a valid length"
        }
        return nil
    }
}
