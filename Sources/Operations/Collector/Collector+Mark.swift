import Foundation
import RESP
import RedisClient

extension Collector {
    /// Writes a named restore point: `SET redkeep:mark:NAME <unix time>` on the server, so
    /// the write lands in the AOF at the point of the mark, then a `mark` record in the
    /// archive (after the write succeeded: a mark in the index always has its key).
    public func mark(_ markName: String) async throws(CollectorError) -> ArchiveRecord.Mark {
        try Self.validate(markName)
        let key = ArchiveRecord.Mark.key(for: markName)
        let at = Date().timeIntervalSince1970
        let connection = try await redis()
        do { _ = try await connection.send(RESPCommand("SET", key, String(at))) } catch {
            throw CollectorError("cannot write the mark \(key) to \(source.endpoint): \(error.message)")
        }
        let engine = self.engine
        return try await io { () throws(CollectorError) in try engine.appendMark(name: markName, key: key, at: at) }
    }

    /// A mark in an archive no collector of this process holds (a collector in another
    /// process holds its archive's lock, and this fails saying so).
    public static func mark(_ markName: String, archive: any ArchiveStore, source: RedisConnectionConfiguration) async throws(CollectorError) -> ArchiveRecord.Mark {
        try validate(markName)
        let writer: any ArchiveIndexWriting
        let index: ArchiveIndex
        do {
            (writer, index) = try await ArchiveIO.run { () throws(ArchiveError) in
                let writer = try archive.openIndexWriter(creating: nil)
                return (writer, try ArchiveIndex.read(archive))
            }
        } catch {
            throw CollectorError(error)
        }
        let (key, at) = try await Self.writeMarkKey(markName, to: source)
        let ended = Set(index.streamEnds.map(\.stream))
        let mark = ArchiveRecord.Mark(name: markName, key: key, at: at, stream: index.streams.last { !ended.contains($0.stream) }?.stream)
        do { try await ArchiveIO.run { () throws(ArchiveError) in try writer.append(.mark(mark)) } } catch { throw CollectorError(error) }
        return mark
    }

    static func validate(_ markName: String) throws(CollectorError) {
        guard !markName.isEmpty, markName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw CollectorError(.invalidRequest, "a mark name is printable text without blanks, not \"\(markName)\"")
        }
    }

    /// Writes `SET redkeep:mark:NAME <unix time>` on `source`, so the mark reaches the
    /// archive through the AOF or the replication stream, whichever the collector follows;
    /// returns the key and the time written.
    static func writeMarkKey(_ markName: String, to source: RedisConnectionConfiguration) async throws(CollectorError) -> (key: String, at: Double) {
        let key = ArchiveRecord.Mark.key(for: markName)
        let at = Date().timeIntervalSince1970
        do {
            let connection = try await RedisConnection.connect(source)
            defer { Task { await connection.close() } }
            _ = try await connection.send(RESPCommand("SET", key, String(at)))
        } catch {
            throw CollectorError(.source, "cannot write the mark \(key) to \(source.endpoint): \(error.message)", underlying: error)
        }
        return (key, at)
    }
}
