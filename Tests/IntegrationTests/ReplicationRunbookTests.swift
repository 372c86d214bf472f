import Foundation
import Testing

/// The runbooks under scripts/runbooks run through the built redkeep binary, with their
/// assertions; each starts its own servers.
@Suite struct ReplicationRunbookTests {
    static let folder: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("scripts/runbooks").path
    }()

    @Test(arguments: ["verify-sync.rk", "replica-tree.rk", "failover-promote.rk", "failover-replace.rk", "failover-sentinel.rk"])
    func runbookPasses(_ name: String) throws {
        let run = try RedkeepBinaryTests.redkeep([Self.folder + "/" + name])
        #expect(run.status == 0, "\(name) exited \(run.status):\n\(run.err)")
        #expect(run.out.contains("\(name.dropLast(3)) runbook: ok"), "\(run.out.suffix(400))")
    }
}
