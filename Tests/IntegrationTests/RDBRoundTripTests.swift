import Foundation
import NIOCore
import Operations
import RDB
import RESP
import RedisClient
import Testing

/// The RDB reader against real servers: every type small and large (so each crosses
/// into its other encoding), with and without expiries, in databases 0, 1 and 5; SAVE,
/// read dump.rdb our way, compare each key's payload with the server's own DUMP, then
/// RESTORE every key into a fresh server and compare DEBUG DIGEST.
@Suite(.serialized) struct RDBRoundTripTests {
    /// Debug commands (DIGEST, QUICKLIST-PACKED-THRESHOLD) from loopback, and compression.
    static func options(_ extra: [(name: String, value: String)] = []) -> LocalServerOptions {
        LocalServerOptions(config: [("enable-debug-command", "local"), ("rdbcompression", "yes"), ("save", "")] + extra)
    }

    static func command(_ words: [String]) -> RESPCommand { RESPCommand(words.map { RESPArgument.string($0) }) }

    static func run(_ c: RedisConnection, _ commands: [[String]]) async throws {
        let replies = try await c.pipeline(commands.map(command))
        for (i, r) in replies.enumerated() where r.isError {
            Issue.record("\(commands[i].prefix(3)) failed: \(r.errorMessage ?? "")")
        }
    }

    /// Every type, small and large, with expiries in databases 1 and 5.
    static func populate(_ c: RedisConnection) async throws {
        let far = Int(Date().timeIntervalSince1970 * 1000) + 86_400_000
        // Lists of elements of 300 bytes and more become plain quicklist nodes.
        _ = try await c.send(["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "300"])
        for db in ["0", "1", "5"] {
            var cmds: [[String]] = [["SELECT", db]]
            cmds.append(["SET", "s:small", "hello-\(db)"])
            cmds.append(["SET", "s:int", "12345"])
            cmds.append(["SET", "s:neg", "-70000"])
            cmds.append(["SET", "s:big", String(repeating: "abcdefgh", count: 2000)])   // LZF
            cmds.append(["SET", "s:text", (0..<400).map { "w\($0 * 7919 % 1000)" }.joined(separator: " ")])
            cmds.append(["RPUSH", "l:small", "a", "b", "1", "-2"])
            cmds.append(["RPUSH", "l:big"] + (0..<3000).map { "element-\($0)" })
            cmds.append(["RPUSH", "l:plain", "x", String(repeating: "P", count: 500), "y"])
            cmds.append(["SADD", "i:small", "1", "2", "-3", "70000"])
            cmds.append(["SADD", "i:wide", "1", "5000000000"])
            cmds.append(["SADD", "i:big"] + (0..<700).map { String($0 * 3) })
            cmds.append(["SADD", "set:small", "a", "b", "c"])
            cmds.append(["SADD", "set:big"] + (0..<300).map { "member-\($0)" })
            cmds.append(["HSET", "h:small", "f1", "v1", "f2", "2"])
            cmds.append(["HSET", "h:big"] + (0..<600).flatMap { ["field-\($0)", "value-\($0)"] })
            cmds.append(["HSET", "h:longvalue", "f", String(repeating: "v", count: 100)])
            cmds.append(["ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e"])
            cmds.append(["ZADD", "z:big"] + (0..<300).flatMap { [String(Double($0) / 7), "m-\($0)"] })
            for i in 0..<40 {
                cmds.append(i % 3 == 0 ? ["XADD", "x:small", "*", "other", "\(i)"] : ["XADD", "x:small", "*", "name", "n\(i)", "n", "\(i)"])
            }
            for i in 0..<1500 { cmds.append(["XADD", "x:big", "\(1_700_000_000_000 + i)-\(i % 3)", "k", "\(i)"]) }
            cmds.append(["XGROUP", "CREATE", "x:small", "g1", "0"])
            cmds.append(["XGROUP", "CREATE", "x:small", "g2", "$"])
            cmds.append(["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "x:small", ">"])
            cmds.append(["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "x:small", ">"])
            cmds.append(["XGROUP", "CREATECONSUMER", "x:small", "g2", "carol"])
            if db != "0" {
                // Expiries: ms in 1, seconds in 5, on several types.
                for key in ["s:small", "l:big", "h:small", "z:big", "x:small", "i:small"] {
                    cmds.append(db == "1" ? ["PEXPIREAT", key, "\(far + key.count)"] : ["EXPIRE", key, "100000"])
                }
            }
            try await run(c, cmds)
            // One acknowledged and one deleted entry, after the reads.
            let firstIDs = try await c.send(["XRANGE", "x:small", "-", "+", "COUNT", "2"]).elements ?? []
            if let id0 = firstIDs.first?.elements?.first?.string, let id1 = firstIDs.last?.elements?.first?.string {
                try await run(c, [["XACK", "x:small", "g1", id0], ["XDEL", "x:small", id1]])
            }
        }
        _ = try await c.send(["SELECT", "0"])
    }

    /// Every key of the RDB at `path`, read our way.
    static func read(_ path: String) throws -> (keys: [RDBKeyEntry], reader: RDBReader) {
        let reader = try RDBReader(source: RDBFileSource(path: path), limits: .init(blockSize: 4096))
        var keys: [RDBKeyEntry] = []
        while let entry = try reader.next() { if case .key(let k) = entry { keys.append(k) } }
        return (keys, reader)
    }

    static func digest(_ c: RedisConnection) async throws -> String {
        try #require(try await c.send(["DEBUG", "DIGEST"]).string)
    }

    static func restoreAll(_ keys: [RDBKeyEntry], into c: RedisConnection) async throws {
        for db in Set(keys.map(\.database)).sorted() {
            var commands: [RESPCommand] = [Self.command(["SELECT", String(db)])]
            for key in keys where key.database == db {
                let payload = try DumpPayload.make(for: key)
                commands.append(RESPCommand([.string("RESTORE"), .bytes(ByteBuffer(bytes: key.key)),
                                             .string(String(key.expiresAtMs ?? 0)), .bytes(ByteBuffer(bytes: payload)),
                                             .string("REPLACE"), .string("ABSTTL")]))
            }
            let replies = try await c.pipeline(commands)
            for (i, r) in replies.enumerated() where r.isError {
                Issue.record("RESTORE #\(i) in db \(db) failed: \(r.errorMessage ?? "")")
            }
        }
        _ = try await c.send(["SELECT", "0"])
    }

    @Test func everyTypeRoundTripsThroughOurReaderIntoAFreshServer() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", Self.options([("maxmemory-policy", "allkeys-lfu")]))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await Self.populate(c)
            _ = try await c.send(["SAVE"])
            let (keys, reader) = try Self.read(source.directory + "/dump.rdb")
            #expect(reader.version == 10 || reader.version == 11 || reader.version == 12)
            guard case .verified = reader.checksum else { Issue.record("checksum: \(String(describing: reader.checksum))"); return }
            #expect(keys.count == 3 * 20)
            #expect(Set(keys.map(\.database)) == [0, 1, 5])
            #expect(keys.allSatisfy { $0.lfuFrequency != nil }, "allkeys-lfu writes a frequency for each key")
            let expiring = keys.filter { $0.expiresAtMs != nil }
            #expect(expiring.count == 12)
            // Both encodings of each type appear.
            let types = Set(keys.map(\.type))
            for t: RDBValueType in [.string, .listQuicklist2, .setIntset, .set, .hashListpack, .hash, .zsetListpack, .zset2] {
                #expect(types.contains(t), "no key of type \(t)")
            }
            #expect(types.contains(.streamListpacks2) || types.contains(.streamListpacks3))
            // The long element is a plain quicklist node of its own between two packed ones.
            let plain = try #require(keys.first { $0.key == Array("l:plain".utf8) })
            #expect(plain.serialization.prefix(2) == [3, 2])

            // (a) Our payload is the server's own DUMP, byte for byte.
            var selected = -1
            for key in keys {
                if key.database != selected {
                    _ = try await c.send(Self.command(["SELECT", String(key.database)]))
                    selected = key.database
                }
                let dump = try #require(try await c.send([.string("DUMP"), .bytes(ByteBuffer(bytes: key.key))]).bytes)
                let ours = try DumpPayload.make(for: key)
                #expect(Array(dump.readableBytesView) == ours, "DUMP of \(key.keyDescription) in db \(key.database) (\(key.type))")
                if key.key == Array("s:big".utf8) { #expect(key.serialization.first.map { $0 >> 6 } == 3, "s:big is LZF-compressed") }
            }
            // Expiries are the server's, to the millisecond.
            for key in expiring where key.database == 1 {
                _ = try await c.send(["SELECT", "1"])
                let at = try await c.send([.string("PEXPIRETIME"), .bytes(ByteBuffer(bytes: key.key))]).int
                #expect(at.map(Int64.init) == key.expiresAtMs)
            }
            _ = try await c.send(["SELECT", "0"])
            try await Self.compareDecodedValues(keys, with: c)

            // (b) RESTORE everything into a fresh server: the same digest.
            let target = try await lab.start("target", Self.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            try await Self.restoreAll(keys, into: t)
            let expected = try await Self.digest(c)
            #expect(expected != String(repeating: "0", count: 40))
            #expect(try await Self.digest(t) == expected)
            await c.close()
            await t.close()
        }
    }

    /// Our decoded values against what the server returns for the same keys (db 0).
    static func compareDecodedValues(_ keys: [RDBKeyEntry], with c: RedisConnection) async throws {
        func strings(_ v: RESPValue) -> [[UInt8]] { (v.elements ?? []).map { Array($0.bytes?.readableBytesView ?? ByteBuffer().readableBytesView) } }
        for key in keys where key.database == 0 {
            let name = RESPArgument.bytes(ByteBuffer(bytes: key.key))
            let value = try key.value()
            let summary = try key.summary()
            #expect(summary.typeName == (try await c.send(["TYPE", name]).string))
            let serverCount: Int? = switch value {
            case .string: try await c.send(["STRLEN", name]).int
            case .list: try await c.send(["LLEN", name]).int
            case .set: try await c.send(["SCARD", name]).int
            case .hash: try await c.send(["HLEN", name]).int
            case .sortedSet: try await c.send(["ZCARD", name]).int
            case .stream: try await c.send(["XLEN", name]).int
            case .module: nil
            }
            #expect(summary.count == serverCount, "count of \(key.keyDescription) (\(key.type))")
            switch value {
            case .string(let s):
                #expect(try await c.send(["GET", name]).bytes.map { Array($0.readableBytesView) } == s)
            case .list(let l):
                #expect(strings(try await c.send(["LRANGE", name, "0", "-1"])) == l, "\(key.keyDescription)")
            case .set(let members):
                #expect(Set(strings(try await c.send(["SMEMBERS", name]))) == Set(members), "\(key.keyDescription)")
            case .hash(let fields):
                let flat = strings(try await c.send(["HGETALL", name]))
                var server: [[UInt8]: [UInt8]] = [:]
                for k in stride(from: 0, to: flat.count, by: 2) { server[flat[k]] = flat[k + 1] }
                #expect(server == Dictionary(uniqueKeysWithValues: fields.map { ($0.field, $0.value) }), "\(key.keyDescription)")
            case .sortedSet(let members):
                let flat = strings(try await c.send(["ZRANGE", name, "0", "-1", "WITHSCORES"]))
                let ours = members.sorted { ($0.score, $0.member.lexicographicallyPrecedes($1.member) ? 0 : 1) < ($1.score, 0) }
                #expect(flat.count == 2 * members.count)
                #expect(Set(stride(from: 0, to: flat.count, by: 2).map { flat[$0] }) == Set(ours.map(\.member)))
            case .stream(let s):
                let entries = try await c.send(["XRANGE", name, "-", "+"]).elements ?? []
                #expect(s.entries.map(\.id.description) == entries.compactMap { $0.elements?.first?.string }, "\(key.keyDescription)")
                let groups = try await c.send(["XINFO", "GROUPS", name]).elements ?? []
                #expect(s.groups.count == groups.count)
                if key.key == Array("x:small".utf8) {
                    let g1 = try #require(s.groups.first { $0.name == Array("g1".utf8) })
                    #expect(g1.pending.count == 7, "8 delivered, 1 acknowledged")
                    #expect(Set(g1.consumers.map { String(decoding: $0.name, as: UTF8.self) }) == ["alice", "bob"])
                    #expect(g1.consumers.reduce(0) { $0 + $1.pending.count } == 7)
                    let g2 = try #require(s.groups.first { $0.name == Array("g2".utf8) })
                    #expect(g2.consumers.map(\.name) == [Array("carol".utf8)] && g2.pending.isEmpty)
                }
            case .module:
                Issue.record("no module is loaded, yet \(key.keyDescription) is a module value")
            }
        }
    }

    @Test func checksumOffAndLRUIdleTimes() async throws {
        try await withLab { lab in
            let source = try await lab.start("nocrc", Self.options([("rdbchecksum", "no"), ("maxmemory-policy", "allkeys-lru")]))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await Self.run(c, [["SET", "a", "1"], ["RPUSH", "l", "x", "y"], ["SELECT", "3"], ["HSET", "h", "f", "v"]])
            _ = try await c.send(["SAVE"])
            let (keys, reader) = try Self.read(source.directory + "/dump.rdb")
            #expect(reader.checksum == .notWritten)
            #expect(keys.count == 3 && keys.allSatisfy { $0.lruIdle != nil })
            let report = RDBFileCheck.check(path: source.directory + "/dump.rdb")
            #expect(report.isValid && report.keys == 3 && report.databases.map(\.number) == [0, 3])
            let target = try await lab.start("t2", Self.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            _ = try await c.send(["SELECT", "0"])
            try await Self.restoreAll(keys, into: t)
            #expect(try await Self.digest(t) == (try await Self.digest(c)))
            await c.close()
            await t.close()
        }
    }

    @Test func anAOFBaseThatIsAnRDBChecksAndRestores() async throws {
        try await withLab { lab in
            let source = try await lab.start("aof", LocalServerOptions(appendOnly: true, config: [("enable-debug-command", "local")]))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await Self.run(c, [["RPUSH", "l", "a", "b"], ["HSET", "h", "f", "v"], ["SET", "n", "5"], ["PEXPIRE", "n", "100000000"]])
            _ = try await AOFRewrite.run(c, timeout: .seconds(60))
            let folder = source.directory + "/appendonlydir"
            let base = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".base.rdb") })
            let report = RDBFileCheck.check(path: folder + "/" + base)
            #expect(report.isValid, "\(String(describing: report.problem))")
            #expect(report.keys == 3 && report.databases.first?.expiringKeys == 1)
            #expect(report.aux.contains { $0.name == "aof-base" && $0.value == "1" })
            let (keys, _) = try Self.read(folder + "/" + base)
            let target = try await lab.start("aof-target", Self.options())
            let t = try await RedisConnection.connect(target.connectionConfiguration)
            try await Self.restoreAll(keys, into: t)
            #expect(try await Self.digest(t) == (try await Self.digest(c)))
            await c.close()
            await t.close()
        }
    }

    @Test func aDamagedDumpIsReportedWithItsOffset() async throws {
        try await withLab { lab in
            let source = try await lab.start("damaged", Self.options())
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            try await Self.run(c, [["SET", "a", String(repeating: "z", count: 1000)], ["RPUSH", "l", "x"]])
            _ = try await c.send(["SAVE"])
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: source.directory + "/dump.rdb")))
            let path = source.directory + "/cut.rdb"
            bytes.removeLast(20)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let report = RDBFileCheck.check(path: path)
            #expect(!report.isValid)
            #expect(report.problem?.kind == .truncated && (report.problem?.offset ?? 0) <= bytes.count)
            let missing = RDBFileCheck.check(path: source.directory + "/nope.rdb")
            #expect(missing.problem?.kind == .io && missing.problem?.reason.contains("nope.rdb") == true)
            await c.close()
        }
    }
}
