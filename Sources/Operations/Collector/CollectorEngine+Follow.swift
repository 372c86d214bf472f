import AOF
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension CollectorEngine {
    /// One look at the AOF folder: opens incr files that appeared (a rewrite began),
    /// copies a base that appeared (a rewrite finished), samples every followed file's
    /// size (a `sample` record when it changed), and notes which streams Redis is done with.
    func observe(now: Double) throws(CollectorError) {
        var failure: CollectorError?
        do {
            switch mode {
            case .multiPart(let manifest): try followManifest(manifest, now: now)
            case .singleFile(let name): try followSingleFile(name, now: now)
            }
        } catch {
            // The files already open can still be sampled and copied: go on, report after.
            failure = error
        }
        for (i, s) in streams.enumerated() {
            var st = stat()
            guard fstat(s.descriptor, &st) == 0 else { continue }
            let size = Int(st.st_size)
            if size < s.copied {
                try truncated(s, size: size, now: now)
                continue
            }
            s.size = size
            if s.sampledSize != size {
                try append(.sample(.init(stream: s.number, size: size, at: now)))
                s.sampledSize = size
            }
            if i < streams.count - 1 {
                s.stable = s.sizeWithSuccessor == size
                s.sizeWithSuccessor = size
            }
        }
        if let failure { throw failure }
    }

    /// Checks the AOF can be followed (the manifest parses, or the single file is there).
    func validate() throws(CollectorError) {
        switch mode {
        case .multiPart(let manifest):
            do { _ = try AOFManifest.load(aofDirectory + "/" + manifest) } catch {
                throw CollectorError("cannot follow the AOF: \(error)")
            }
        case .singleFile(let name):
            guard access(aofDirectory + "/" + name, R_OK) == 0 else {
                throw CollectorError("cannot read \(aofDirectory)/\(name): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Redis 7+: the manifest says which incr files and which base make up the AOF now.
    private func followManifest(_ manifestName: String, now: Double) throws(CollectorError) {
        let path = aofDirectory + "/" + manifestName
        let manifest: AOFManifest
        do { manifest = try AOFManifest.load(path) } catch {
            throw CollectorError("cannot follow the AOF: \(error) (the files already open are still copied)")
        }
        // Incr files that became history before a pass saw them (a rewrite began and
        // finished within one interval, or a long pass): still on disk until Redis's
        // background deletion, and newer than anything followed, so they come first.
        let missed = lastSeq.map { last in manifest.history.filter { $0.name.contains(".incr.") && $0.seq > last } } ?? []
        for file in missed.sorted(by: { $0.seq < $1.seq }) + manifest.incrs {
            var st = stat()
            // Listed but gone: a later rewrite finished between the manifest read and now.
            guard stat(aofDirectory + "/" + file.name, &st) == 0 else { continue }
            let identity = FileIdentity(name: file.name, inode: UInt64(st.st_ino))
            guard known[identity] == nil else { continue }
            if let lastSeq, file.seq > lastSeq + 1 {
                try append(.gap(.init(stream: nil, offset: nil, from: streams.last?.lastProgress ?? now, to: now,
                                      reason: "incr files with seq \(lastSeq + 1) to \(file.seq - 1) in \(aofDirectory) came and went unseen (the collector was not running)")))
            }
            try openStream(name: file.name, seq: file.seq, now: now)
            lastSeq = file.seq
        }
        if let base = manifest.base {
            let first = manifest.incrs.first.flatMap { incr in known.filter { $0.key.name == incr.name }.map(\.value).max() }
            try copyBase(name: base.name, seq: base.seq, format: base.isRDB ? .rdb : .aof, firstStream: first ?? nextStream, now: now)
        }
    }

    /// Redis <= 6: one file. A new inode (or a file shorter than what was copied) means a
    /// rewrite replaced it: the old file is finished through the kept descriptor and the
    /// new one starts a new generation from offset 0, with an empty base (the file itself
    /// holds the whole data set, then the commands).
    private func followSingleFile(_ name: String, now: Double) throws(CollectorError) {
        let path = aofDirectory + "/" + name
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CollectorError("cannot follow the AOF: \(path) is gone (\(String(cString: strerror(errno)))); the file already open is still copied")
        }
        let identity = FileIdentity(name: name, inode: UInt64(st.st_ino))
        guard known[identity] == nil else { return }
        let stream = try openStream(name: name, seq: 0, now: now)
        var magic = [UInt8](repeating: 0, count: 5)
        if pread(stream.descriptor, &magic, 5, 0) == 5, magic == Array("REDIS".utf8) {
            stream.stalled = "\(path) starts with an RDB preamble, which cannot be cut into commands: set aof-use-rdb-preamble no and rewrite the AOF"
            try append(.gap(.init(stream: stream.number, offset: 0, from: now, to: now, reason: stream.stalled!)))
            throw CollectorError(stream.stalled!)
        }
        try recordGeneration(sourceFile: name, seq: 0, format: .aof, inode: identity.inode, firstStream: stream.number,
                             asOf: now, now: now) { _ in }
    }

    /// Starts following an incr file from its first byte.
    @discardableResult
    func openStream(name: String, seq: Int64, now: Double) throws(CollectorError) -> FollowedStream {
        let path = aofDirectory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CollectorError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        fstat(fd, &st)
        let number = nextStream
        let stream = FollowedStream(number: number, sourceFile: name, path: path, descriptor: fd, inode: UInt64(st.st_ino),
                                    copied: 0, lastProgress: now)
        try append(.stream(.init(stream: number, sourceFile: name, sourceSeq: seq, openedBy: now, recordedAt: now,
                                 sourceInode: stream.inode)))
        nextStream += 1
        openedBy[number] = now
        known[stream.identity] = number
        streams.append(stream)
        return stream
    }

    /// A followed file became shorter than what was archived: someone cut it (a repair,
    /// a loader truncating a torn tail below what was copied). What was archived no
    /// longer matches the file: the stream ends with a gap, and the file is followed
    /// again as a new stream.
    private func truncated(_ s: FollowedStream, size: Int, now: Double) throws(CollectorError) {
        try append(.gap(.init(stream: s.number, offset: size, from: s.lastProgress, to: now,
                              reason: "\(s.path) shrank from \(s.copied) archived bytes to \(size): it was truncated or replaced in place")))
        try append(.streamEnd(.init(stream: s.number, size: s.copied, at: now)))
        known[s.identity] = nil
        streams.removeAll { $0 === s }
    }
}
