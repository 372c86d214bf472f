import Foundation
import Testing

@testable import Shell

/// docs/commands.md must say what `help` says.
@Suite struct CommandReferenceTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/commands.md").path

    @Test func docsMatchHelp() throws {
        let generated = CommandReference.markdown()
        if ProcessInfo.processInfo.environment["REDKEEP_UPDATE_DOCS"] == "1" {
            try generated.write(toFile: Self.path, atomically: true, encoding: .utf8)
        }
        let onDisk = try String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(onDisk == generated, "docs/commands.md differs from help; run REDKEEP_UPDATE_DOCS=1 swift test --filter CommandReferenceTests")
    }

    @Test func everyWordHasHelp() {
        for entry in CommandRegistry.entries {
            #expect(!entry.summary.isEmpty, "\(entry.name) has no summary")
            #expect(entry.help().contains("USAGE"), "\(entry.name)'s help has no usage line")
        }
    }
}
