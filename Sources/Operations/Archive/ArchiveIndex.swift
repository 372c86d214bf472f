import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An archive's records, read from `index.jsonl`, with the views the collector (to resume)
/// and the restore (to plan) need.
public struct ArchiveIndex: Sendable {
    /// The folder.
    public let layout: ArchiveLayout
    /// `archive.json`.
    public let descriptor: ArchiveDescriptor
    /// Every record, in the order it was appended.
    public let records: [ArchiveRecord]
    /// True when the last line was cut short (a crash while appending it): it is ignored,
    /// and an ``ArchiveIndexWriter`` removes it before appending.
    public let tornTail: Bool

    /// The generations (bases), in order.
    public var generations: [ArchiveRecord.Generation] { records.compactMap { if case .generation(let g) = $0 { g } else { nil } } }
    /// The streams (incr files followed), in order.
    public var streams: [ArchiveRecord.Stream] { records.compactMap { if case .stream(let s) = $0 { s } else { nil } } }
    /// Every chunk, in the order copied.
    public var chunks: [ArchiveRecord.Chunk] { records.compactMap { if case .chunk(let c) = $0 { c } else { nil } } }
    /// Every sample, in order.
    public var samples: [ArchiveRecord.Sample] { records.compactMap { if case .sample(let s) = $0 { s } else { nil } } }
    /// Every gap, in order.
    public var gaps: [ArchiveRecord.Gap] { records.compactMap { if case .gap(let g) = $0 { g } else { nil } } }
    /// Every mark, in order.
    public var marks: [ArchiveRecord.Mark] { records.compactMap { if case .mark(let m) = $0 { m } else { nil } } }
    /// Every stream end, in order.
    public var streamEnds: [ArchiveRecord.StreamEnd] { records.compactMap { if case .streamEnd(let e) = $0 { e } else { nil } } }

    /// The chunks of one stream, by offset.
    public func chunks(of stream: Int) -> [ArchiveRecord.Chunk] { chunks.filter { $0.stream == stream }.sorted { $0.offset < $1.offset } }
    /// How many bytes of a stream are archived contiguously from 0 (where copying resumes).
    public func copiedBytes(of stream: Int) -> Int {
        var end = 0
        for chunk in chunks(of: stream) where chunk.offset == end { end = chunk.end }
        return end
    }
    /// The size at which a stream ended, if it did.
    public func endSize(of stream: Int) -> Int? { streamEnds.last { $0.stream == stream }?.size }

    /// Reads an archive. Throws when the folder is not an archive, its format is newer
    /// than this redkeep's, or a line other than the last is not a valid record.
    public static func read(_ root: String) throws(ArchiveError) -> ArchiveIndex {
        let layout = ArchiveLayout(root: root)
        guard let descriptorData = FileManager.default.contents(atPath: layout.descriptorPath) else {
            throw ArchiveError("\(root) is not a redkeep archive: \(layout.descriptorPath) is missing or unreadable")
        }
        let descriptor: ArchiveDescriptor
        do {
            descriptor = try Self.decoder.decode(ArchiveDescriptor.self, from: descriptorData)
        } catch {
            throw ArchiveError("\(layout.descriptorPath): not a valid archive descriptor (\(error))")
        }
        guard descriptor.format <= ArchiveDescriptor.currentFormat else {
            throw ArchiveError("\(root) has archive format \(descriptor.format); this redkeep reads up to \(ArchiveDescriptor.currentFormat)")
        }
        let data = FileManager.default.contents(atPath: layout.indexPath) ?? Data()
        var records: [ArchiveRecord] = []
        var torn = false
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where !line.isEmpty {
            let isLast = i == lines.count - 1  // no newline after it: possibly cut short
            do {
                records.append(try Self.decoder.decode(ArchiveRecord.self, from: Data(line)))
            } catch {
                if isLast { torn = true; continue }
                throw ArchiveError("\(layout.indexPath):\(i + 1): not a valid record (\(error))")
            }
        }
        if let last = lines.last, !last.isEmpty, !torn {
            // A complete JSON object without its newline is still cut short: the writer
            // appends the newline in the same write, so this is a torn append. Keep it out.
            records.removeLast()
            torn = true
        }
        return ArchiveIndex(layout: layout, descriptor: descriptor, records: records, tornTail: torn)
    }

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }()

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
}

/// Appends records to an archive's index: each record is one line written in one
/// `write(2)` and fsync'd before ``append(_:)`` returns. Only one writer may hold an
/// archive: an exclusive `flock` on the index says so to a second collector.
public final class ArchiveIndexWriter {
    /// The folder.
    public let layout: ArchiveLayout
    private let descriptor: Int32

    /// Opens (creating when asked) the archive at `root` for appending. A torn last line
    /// is cut off first. Throws when another process holds the archive.
    public init(root: String, create descriptor: ArchiveDescriptor?) throws(ArchiveError) {
        let layout = ArchiveLayout(root: root)
        self.layout = layout
        let fm = FileManager.default
        if !fm.fileExists(atPath: layout.descriptorPath) {
            guard let descriptor else { throw ArchiveError("\(root) is not a redkeep archive: \(layout.descriptorPath) is missing") }
            do {
                try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
                let data = try ArchiveIndex.encoder.encode(descriptor) + Data("\n".utf8)
                try DurableFile.write(Array(data), to: layout.descriptorPath)
            } catch {
                throw ArchiveError("cannot create the archive \(root): \(error)")
            }
        }
        let fd = open(layout.indexPath, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ArchiveError("cannot open \(layout.indexPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ArchiveError("the archive \(root) is in use by another collector (\(layout.indexPath) is locked)")
        }
        self.descriptor = fd
        try cutTornTail()
    }

    deinit { close(descriptor) }

    /// Appends one record and fsyncs it.
    public func append(_ record: ArchiveRecord) throws(ArchiveError) {
        var line: Data
        do { line = try ArchiveIndex.encoder.encode(record) } catch { throw ArchiveError("cannot encode a record: \(error)") }
        line.append(UInt8(ascii: "\n"))
        let fd = descriptor
        var failure: Int32 = 0
        let before = lseek(fd, 0, SEEK_END)
        let ok = line.withUnsafeBytes { DurableFile.Sink.writeAll(fd, $0, &failure) }
        guard ok else {
            // A short write (disk full) would leave half a line in the middle of the index
            // once a later append succeeds: cut it off now.
            if before >= 0 { _ = ftruncate(fd, before) }
            throw ArchiveError("cannot append to \(layout.indexPath): \(String(cString: strerror(failure)))")
        }
        guard fsync(fd) == 0 else { throw ArchiveError("cannot fsync \(layout.indexPath): \(String(cString: strerror(errno)))") }
    }

    /// Removes a last line without its newline (a crash mid-append), so the next record
    /// starts on a line of its own.
    private func cutTornTail() throws(ArchiveError) {
        let size = lseek(descriptor, 0, SEEK_END)
        guard size > 0 else { return }
        var last: UInt8 = 0
        guard pread(descriptor, &last, 1, size - 1) == 1 else { return }
        guard last != UInt8(ascii: "\n") else { return }
        var position = size - 1
        var byte: UInt8 = 0
        while position > 0 {
            guard pread(descriptor, &byte, 1, position - 1) == 1 else { break }
            if byte == UInt8(ascii: "\n") { break }
            position -= 1
        }
        guard ftruncate(descriptor, position) == 0, fsync(descriptor) == 0 else {
            throw ArchiveError("cannot cut the torn last line of \(layout.indexPath): \(String(cString: strerror(errno)))")
        }
    }
}
