import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An archive's records, read from its store's index, with the views the collector (to
/// resume) and the restore (to plan) need.
public struct ArchiveIndex: Sendable {
    /// Where the archive's objects are.
    public let store: any ArchiveStore
    /// `archive.json`.
    public let descriptor: ArchiveDescriptor
    /// Every record, in the order it was published.
    public let records: [ArchiveRecord]
    /// True when the last line was cut short (a crash while appending it): it is ignored,
    /// and the next writer removes it before appending.
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

    /// Reads the archive in a local folder (see ``read(_:)-(ArchiveStore)``).
    public static func read(_ root: String) throws(ArchiveError) -> ArchiveIndex {
        try read(LocalArchiveStore(root: root))
    }

    /// Reads an archive. Throws when the location holds no archive, its format is newer
    /// than this redkeep's, or a record other than a torn last one is not valid.
    public static func read(_ store: any ArchiveStore) throws(ArchiveError) -> ArchiveIndex {
        guard let data = try store.readIndex() else {
            let path = store.describe(ArchiveLayout.descriptorKey)
            throw ArchiveError(.notAnArchive, "\(store.location) is not a redkeep archive: \(path) is missing", object: path)
        }
        return try parse(data, store: store)
    }

    /// Parses an index's bytes: the descriptor, then one record per line.
    public static func parse(_ data: ArchiveIndexData, store: any ArchiveStore) throws(ArchiveError) -> ArchiveIndex {
        let descriptorName = store.describe(ArchiveLayout.descriptorKey)
        let descriptor: ArchiveDescriptor
        do {
            descriptor = try Self.decoder.decode(ArchiveDescriptor.self, from: Data(data.descriptor))
        } catch {
            throw ArchiveError(.damaged, "\(descriptorName): not a valid archive descriptor (\(error))", object: descriptorName)
        }
        guard descriptor.format <= ArchiveDescriptor.currentFormat else {
            throw ArchiveError(.newerFormat, "\(store.location) has archive format \(descriptor.format); this redkeep reads up to \(ArchiveDescriptor.currentFormat)", object: descriptorName)
        }
        var records: [ArchiveRecord] = []
        records.reserveCapacity(data.lines.count)
        for (i, line) in data.lines.enumerated() where !line.isEmpty {
            do {
                records.append(try Self.decoder.decode(ArchiveRecord.self, from: Data(line)))
            } catch {
                throw ArchiveError(.damaged, "\(data.name):\(i + 1): not a valid record (\(error))", object: data.name)
            }
        }
        return ArchiveIndex(store: store, descriptor: descriptor, records: records, tornTail: data.tornTail)
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

