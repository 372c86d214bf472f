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

/// The documentation links only to files in the repository: every relative link in
/// README.md and docs/*.md names a file that exists, inside the repository (no
/// `../shared`, nothing outside the checkout).
@Suite struct DocumentationLinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().standardizedFileURL

    /// The targets of `[text](target)` links in `markdown`, anchors dropped, web links left out.
    static func localTargets(in markdown: String) -> [String] {
        var targets: [String] = []
        var rest = markdown[...]
        while let open = rest.range(of: "](") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<close]).split(separator: " ").first.map(String.init) ?? ""
            rest = rest[close...]
            if target.isEmpty || target.hasPrefix("#") || target.contains("://") || target.hasPrefix("mailto:") { continue }
            targets.append(String(target.split(separator: "#", maxSplits: 1).first ?? ""))
        }
        return targets
    }

    @Test func linksStayInTheRepository() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let pages = try FileManager.default.contentsOfDirectory(atPath: docs.path).filter { $0.hasSuffix(".md") }
            .map { docs.appendingPathComponent($0) } + [Self.root.appendingPathComponent("README.md")]
        #expect(pages.contains { $0.lastPathComponent == "restore.md" })
        var checked = 0
        for page in pages {
            let text = try String(contentsOf: page, encoding: .utf8)
            for target in Self.localTargets(in: text) {
                let resolved = page.deletingLastPathComponent().appendingPathComponent(target).standardizedFileURL
                #expect(resolved.path.hasPrefix(Self.root.path + "/"), "\(page.lastPathComponent) links outside the repository: \(target)")
                #expect(FileManager.default.fileExists(atPath: resolved.path), "\(page.lastPathComponent) links to a missing file: \(target)")
                checked += 1
            }
        }
        #expect(checked > 10, "only \(checked) links found: the scan is broken")
        // The scan sees what it must refuse.
        #expect(Self.localTargets(in: "see [the design](../shared/design/ARCHIVE.md#x) and [web](https://x.org/a)") == ["../shared/design/ARCHIVE.md"])
    }
}
