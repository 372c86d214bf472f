import Testing

@testable import AOF

/// The multi-part AOF manifest: Redis's format, quoting, and every rule its loader enforces.
@Suite struct AOFManifestTests {
    @Test func parsesWhatRedisWrites() throws {
        let text = """
            # a comment
            file appendonly.aof.2.base.rdb seq 2 type b
            file appendonly.aof.1.incr.aof seq 1 type h
            file appendonly.aof.3.incr.aof seq 3 type i
            file appendonly.aof.4.incr.aof seq 4 type i startoffset 100 endoffset 200

            """
        let manifest = try AOFManifest.parse(text)
        #expect(manifest.base?.name == "appendonly.aof.2.base.rdb" && manifest.base?.isRDB == true)
        #expect(manifest.history.map(\.seq) == [1])
        #expect(manifest.incrs.map(\.name) == ["appendonly.aof.3.incr.aof", "appendonly.aof.4.incr.aof"])
        #expect(manifest.currentIncr?.startOffset == 100 && manifest.currentIncr?.endOffset == 200)
        #expect(try AOFManifest.parse(manifest.render()) == manifest)
    }

    @Test func quotedNamesRoundTrip() throws {
        let manifest = AOFManifest(files: [.init(name: "my file \"x\".1.base.aof", seq: 1, type: .base),
                                           .init(name: "tab\there.1.incr.aof", seq: 1, type: .incr)])
        let text = manifest.render()
        #expect(text.contains("file \"my file \\\"x\\\".1.base.aof\" seq 1 type b"))
        #expect(try AOFManifest.parse(text) == manifest)
        #expect(try AOFManifest.parse("file 'single quoted' seq 1 type i\n").incrs.first?.name == "single quoted")
    }

    @Test(arguments: [
        ("", "lists no files"),
        ("# only comments\n", "lists no files"),
        ("file a seq 1 type h\n", "only history"),
        ("file a seq 1 type b\nfile b seq 2 type b\n", ":2: a second base"),
        ("file a seq 2 type i\nfile b seq 2 type i\n", ":2: incr file b has seq 2"),
        ("file a seq 1 type x\n", "unknown AOF file type"),
        ("file a seq one type i\n", "seq must be a whole number"),
        ("file dir/a seq 1 type i\n", "not a path"),
        ("file a seq 1\n", "pairs of key and value"),
        ("file \"a seq 1 type i\n", "unbalanced quotes"),
        ("name a seq 1 type i\n", "needs file, seq and type"),
    ] as [(String, String)])
    func refusesWhatRedisRefuses(text: String, reason: String) {
        do {
            _ = try AOFManifest.parse(text, name: "m")
            Issue.record("\(text) must be refused")
        } catch {
            #expect(error.kind == .manifest)
            #expect(error.description.contains(reason), "\(error)")
        }
    }
}
