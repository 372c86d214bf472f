import Foundation
import Operations
import Testing

/// What every ``ArchiveStore`` must do, whatever it keeps objects in: the archive code
/// relies on exactly this. Each store implementation runs ``ArchiveStoreContract/check(_:)``
/// on an empty location of its own.
enum ArchiveStoreContract {
    static func check(_ store: any ArchiveStore) throws {
        // An empty location holds no archive and no objects.
        #expect(try store.readIndex() == nil)
        #expect(try store.size(of: "stream-000001/000000000000.chunk") == nil)
        #expect(try store.read("stream-000001/000000000000.chunk") == nil)

        // Creating the archive takes the lock; a second writer is refused while it is held.
        let writer = try store.openIndexWriter(creating: ArchiveDescriptor(created: 1, source: "contract"))
        do {
            _ = try store.openIndexWriter(creating: nil)
            Issue.record("\(store.location): a second writer got the lock")
        } catch {
            #expect(error.kind == .locked, "\(error)")
        }

        // Objects: whole, ranged, sized, listed; written whole or not at all.
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let key = ArchiveLayout.chunkPath(stream: 1, offset: 0)
        let info = try store.write(key, bytes: bytes)
        #expect(info.size == bytes.count && info.sha256 == SHA256Hasher.hex(of: bytes))
        #expect(try store.read(key) == bytes)
        #expect(try store.read(key, range: 10..<20) == Array(bytes[10..<20]))
        #expect(try store.read(key, range: 99_990..<100_050) == Array(bytes[99_990...]))
        #expect(try store.size(of: key) == bytes.count)
        do {
            try store.write(key, bytes: [1, 2, 3])
            Issue.record("\(store.location): an existing object was overwritten")
        } catch {
            #expect(error.kind == .invalidRequest, "\(error)")
        }
        try store.write(key, bytes: bytes, replacing: true)
        struct Refused: Error {}
        let failedKey = ArchiveLayout.chunkPath(stream: 1, offset: 100_000)
        #expect(throws: ArchiveError.self) {
            try store.write(failedKey, replacing: false) { writer throws(ArchiveError) in
                try writer.append([1, 2, 3])
                throw ArchiveError(.io, "the body fails half-way")
            }
        }
        #expect(try store.size(of: failedKey) == nil, "a failed write left an object")
        let base = ArchiveLayout.basePath(gen: 1, format: .rdb)
        try store.write(base, bytes: Array("REDIS0010".utf8))
        #expect(Set(try store.list(prefix: "stream-")) == [key])
        #expect(Set(try store.list(prefix: "").filter(ArchiveLayout.isDataObject)) == [key, base])

        // The index: published records are read back in order, by a reader that holds no lock.
        let records: [ArchiveRecord] = [
            .stream(.init(stream: 1, sourceFile: "appendonly.aof.1.incr.aof", sourceSeq: 1, openedBy: 1, recordedAt: 1)),
            .chunk(.init(stream: 1, offset: 0, length: bytes.count, sha256: info.sha256, path: key, commands: 0,
                         firstTimestamp: nil, lastTimestamp: nil, copiedAt: 2)),
        ]
        try writer.append(records[0])
        try writer.append([records[1]])
        var index = try ArchiveIndex.read(store)
        #expect(index.records == records && !index.tornTail && index.descriptor.source == "contract")
        try writer.replaceAll(with: [records[0]])
        try writer.append(records[1])
        index = try ArchiveIndex.read(store)
        #expect(index.records == records)

        // Deleting: gone, and deleting again is no error.
        try store.delete([key])
        try store.delete([key])
        #expect(try store.read(key) == nil)

        // The lock goes with the writer.
        writer.close()
        let next = try store.openIndexWriter(creating: nil)
        next.close()
    }
}

@Suite struct ArchiveStoreContractTests {
    @Test func aLocalFolderKeepsTheContract() throws {
        let root = NSTemporaryDirectory() + "redkeep-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try ArchiveStoreContract.check(LocalArchiveStore(root: root))
    }
}
