import AOF
import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The AOF layer reading what a real redis-server writes: its manifest, its incr file with
/// #TS annotations and MULTI/EXEC blocks, and the manifest after a rewrite.
@Suite struct AOFReadingTests {
    @Test func readsTheManifestAndIncrFileRedisWrites() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(aofTimestamps: true, config: [("appendfsync", "always")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            for i in 0..<500 { _ = try await c.send(["SET", .string("key:\(i)"), .string("value \(i)\r\n")]) }
            _ = try await c.send(["MULTI"])
            _ = try await c.send(["INCR", "counter"])
            _ = try await c.send(["INCR", "counter"])
            _ = try await c.send(["EXEC"])

            let folder = server.directory + "/appendonlydir"
            let manifest = try AOFManifest.load(folder + "/" + AOFManifest.fileName())
            let incr = try #require(manifest.currentIncr)
            #expect(manifest.base != nil)
            var sets = 0, timestamps = 0, committed = 0
            var tracker = AOFTransactionTracker()
            let reader = try AOFFileReader(path: folder + "/" + incr.name)
            while let entry = try reader.next() {
                if case .timestamp = entry.kind { timestamps += 1 }
                if entry.hasName("SET") {
                    sets += 1
                    #expect(entry.argument(2)?.hasPrefix("value ") == true)
                }
                if case .committed(let open) = try tracker.observe(entry) {
                    committed += 1
                    #expect(open.commands == 2)
                }
            }
            try reader.requireCleanEnd()
            #expect(sets == 500 && committed == 1 && timestamps >= 1)
            #expect(!tracker.isInsideTransaction)
            let size = try FileManager.default.attributesOfItem(atPath: folder + "/" + incr.name)[.size] as? Int
            #expect(reader.offset == size)

            // A rewrite opens the next incr file and writes a new base.
            _ = try await c.send(["BGREWRITEAOF"])
            var after = manifest
            for _ in 0..<200 where after.currentIncr?.seq == incr.seq || after.base?.seq == manifest.base?.seq {
                try await Task.sleep(for: .milliseconds(20))
                after = try AOFManifest.load(folder + "/" + AOFManifest.fileName())
            }
            #expect(after.currentIncr!.seq > incr.seq)
            #expect(after.base!.seq > manifest.base!.seq)
            await c.close()
        }
    }
}
