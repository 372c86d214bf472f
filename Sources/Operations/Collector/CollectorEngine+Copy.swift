import AOF
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension CollectorEngine {
    /// Copies the next chunk of the oldest stream with new whole commands: at most
    /// `chunkSize` bytes cut at a command boundary (one larger command makes one larger
    /// chunk); a partial command at the end stays for a later pass. The chunk is written
    /// to a temporary name, fsync'd and renamed before its record is appended. Returns
    /// the bytes copied (0: nothing left) and how long the rate cap asks to wait.
    func copyNextChunk(now: Double) throws(CollectorError) -> (bytes: Int, wait: Duration) {
        for s in streams where s.stalled == nil && s.copied < s.size {
            let n = try copyChunk(of: s, now: now)
            if n > 0 { return (n, limiter.delay()) }
        }
        return (0, limiter.delay())
    }

    private func copyChunk(of s: FollowedStream, now: Double) throws(CollectorError) -> Int {
        let start = s.copied
        let reader = AOFFileReader(descriptor: s.descriptor, name: s.path, from: start, to: s.size,
                                   blockSize: min(max(chunkSize, 4096), 1 << 20))
        var entries: [AOFEntry] = []
        var end = start
        var commands = 0
        var firstTimestamp: Int64?
        var lastTimestamp: Int64?
        var malformed: AOFError?
        while true {
            let entry: AOFEntry?
            do { entry = try reader.next() } catch {
                malformed = error
                break
            }
            guard let entry else { break }
            if entry.endOffset - start > chunkSize && end > start { break }
            entries.append(entry)
            end = entry.endOffset
            switch entry.kind {
            case .command: commands += 1
            case .timestamp(let t):
                if firstTimestamp == nil { firstTimestamp = t }
                lastTimestamp = t
            case .annotation: break
            }
        }
        limiter.charge(end - start)
        if end == start {
            if let malformed {
                // Not AOF bytes: nothing after this point can be cut into commands.
                s.stalled = "\(malformed)"
                try append(.gap(.init(stream: s.number, offset: start, from: now, to: now,
                                      reason: "\(s.path) holds bytes that are not AOF commands at offset \(start): \(malformed)")))
                throw CollectorError("stopped copying \(s.path): \(malformed)")
            }
            s.partialTail = true
            return 0
        }
        s.partialTail = false
        let relative = ArchiveLayout.chunkPath(stream: s.number, offset: start)
        let sha: String
        do {
            // An object of this key without a record is an orphan of a crash: replace it.
            sha = try store.write(relative, pieces: entries.lazy.map(\.bytes), replacing: true).sha256
        } catch {
            var failure = CollectorError(error)
            failure.message = "cannot archive bytes \(start)..<\(end) of \(s.path): \(error)"
            throw failure
        }
        try append(.chunk(.init(stream: s.number, offset: start, length: end - start, sha256: sha, path: relative,
                                commands: commands, firstTimestamp: firstTimestamp, lastTimestamp: lastTimestamp, copiedAt: now)))
        s.copied = end
        s.lastProgress = now
        chunksCopied += 1
        bytesCopied += end - start
        lastCopy = now
        return end - start
    }

    /// Ends the streams Redis is done with (a newer file exists and the size held still
    /// for a whole interval) once they are archived to their end: `stream-end` with the
    /// final size, and the kept descriptor is closed.
    func finishStreams(now: Double) throws(CollectorError) {
        for s in streams.dropLast() where s.stable {
            if s.copied == s.size {
                try append(.streamEnd(.init(stream: s.number, size: s.size, at: now)))
            } else if s.partialTail || s.stalled != nil {
                // The file ended inside a command (a torn write): those bytes cannot replay.
                try append(.gap(.init(stream: s.number, offset: s.copied, from: s.lastProgress, to: now,
                                      reason: "\(s.path) ends with \(s.size - s.copied) bytes that do not make a whole command")))
                try append(.streamEnd(.init(stream: s.number, size: s.size, at: now)))
            } else {
                continue
            }
            streams.removeAll { $0 === s }
        }
    }

    /// Appends a mark record.
    func appendMark(name: String, key: String, at: Double) throws(CollectorError) -> ArchiveRecord.Mark {
        let mark = ArchiveRecord.Mark(name: name, key: key, at: at, stream: streams.last?.number)
        try append(.mark(mark))
        return mark
    }
}
