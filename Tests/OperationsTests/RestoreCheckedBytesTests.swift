import Foundation
import NIOCore
import Testing

@testable import Operations

/// The check before writing keeps the checked bytes of the base and the first chunks
/// (within its budget) and the write uses them instead of reading the store again; what
/// was not kept is read and checked again when the write reaches it.
@Suite struct RestoreCheckedBytesTests {
    /// Overwrites an archive object in place with other bytes of the same length, as a
    /// store changing (or rotting) after the check would.
    static func spoil(_ path: String) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for i in bytes.indices where bytes[i] == UInt8(ascii: "v") { bytes[i] = UInt8(ascii: "w") }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func theWriteUsesTheCheckedBytesKeptAndChecksTheRestAgain() async throws {
        let a = try SyntheticArchive()
        let base = aof("SET", "base", "v")
        try a.generation(1, base: base, firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: (0..<4).map { (aof("SET", "k\($0)", "v\($0)"), Double(101 + $0)) })
        a.closeWriter()
        let plan = try RestorePlan.make(try a.index, target: .latest)
        let chunks = plan.neededChunks
        #expect(chunks.count == 4)

        // Room for the base and the first two chunks only.
        let budget = base.utf8.count + chunks[0].length + chunks[1].length
        let kept = try await Restore.checkObjects(plan, keeping: budget, stop: StopFlag(), progress: nil)
        #expect(kept.holds(chunks[0]) && kept.holds(chunks[1]))
        #expect(!kept.holds(chunks[2]) && !kept.holds(chunks[3]))
        #expect(kept.bytesHeld == budget)

        // A budget of 0 keeps nothing.
        let none = try await Restore.checkObjects(plan, keeping: 0, stop: StopFlag(), progress: nil)
        #expect(none.bytesHeld == 0 && !none.holds(chunks[0]))

        // After the check, the store's copies of a kept chunk and of a chunk not kept change.
        try Self.spoil(a.root + "/" + chunks[0].path)
        try Self.spoil(a.root + "/" + chunks[2].path)

        // The kept chunk comes from memory, as checked; the other is read again and refused.
        let cursor = ReplayCursor(plan, checked: kept)
        var keys: [String] = []
        do {
            while let e = try cursor.next() {
                if e.entry.isCommand, let key = e.entry.argument(1) { keys.append(key) }
            }
            Issue.record("a chunk that changed after the check was used")
        } catch {
            #expect(error.message.contains(chunks[2].path) && error.message.contains("sha256"), "\(error.message)")
        }
        #expect(keys == ["k0", "k1"], "\(keys)")
        #expect(!kept.holds(chunks[0]) && !kept.holds(chunks[1]), "each kept chunk is handed out once, then dropped")

        // Nothing kept: the changed first chunk is refused straight away.
        let plain = ReplayCursor(plan)
        #expect(throws: RestoreError.self) { _ = try plain.next() }

    }
}
