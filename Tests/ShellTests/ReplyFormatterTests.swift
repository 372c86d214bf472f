import NIOCore
import RESP
import Testing

import Shell

// Expected texts of Redis replies in human and raw mode were taken from redis-cli 7.0.15
// (`--no-raw` / `--raw`, with `-3` for RESP3) against a real server, using `DEBUG PROTOCOL`
// and Lua scripts to produce every reply type.

private let human = ReplyFormatter(mode: .human, color: false)
private let humanColor = ReplyFormatter(mode: .human, color: true)
private let raw = ReplyFormatter(mode: .raw, color: false)
private let json = ReplyFormatter(mode: .json, color: false)

private let esc = "\u{1B}"
private func red(_ s: String) -> String { "\(esc)[31m\(s)\(esc)[0m" }
private func dim(_ s: String) -> String { "\(esc)[2m\(s)\(esc)[0m" }
private func cyan(_ s: String) -> String { "\(esc)[36m\(s)\(esc)[0m" }
private func bold(_ s: String) -> String { "\(esc)[1m\(s)\(esc)[0m" }

private func bytes(_ b: [UInt8]) -> RESPValue { .bulkString(ByteBuffer(bytes: b)) }
private func verbatim(_ s: String) -> RESPValue { .verbatimString(format: "txt", text: ByteBuffer(string: s)) }
private func bulkError(_ s: String) -> RESPValue { .bulkError(ByteBuffer(string: s)) }

/// A map as Redis sends it (any keys, usually bulk strings).
private func hash(_ pairs: [(RESPValue, RESPValue)]) -> RESPValue {
    .map(pairs.map { RESPPair(key: $0.0, value: $0.1) })
}

/// A redkeep report: keys are simple strings.
private func report(_ pairs: KeyValuePairs<String, RESPValue>) -> RESPValue {
    .map(pairs.map { RESPPair(key: .simple($0.key), value: $0.value) })
}

/// The bytes of `a"b<LF>\<SOH><DEL>€<TAB><CR><BEL><BS> end`.
private let binaryBytes: [UInt8] =
    Array("a\"b\n\\".utf8) + [0x01, 0x7F, 0xE2, 0x82, 0xAC, 0x09, 0x0D, 0x07, 0x08] + Array(" end".utf8)

/// `{1,{2,{3,'x'},{}},'y',{{}}}` from Lua.
private let nestedArrays: RESPValue = [1, [2, [3, "x"], []], "y", [[]]]

/// `1`, an error, a status, nil and a string, as a Lua script returns them in an array.
private let mixedArray: RESPValue = [1, .error("ERR boom"), .simple("FINE"), .null, "z"]

/// A RESP3 reply mixing maps and sets inside an array.
private let resp3Mix: RESPValue = [
    1,
    hash([("k1", [1, 2]), ("k2", "v")]),
    .set(["x"]),
    hash([("only", hash([("a", "b")]))]),
    .map([]),
    .set([]),
    .double(0.5),
    ["a", ["b"]],
    [hash([("z", ["one"])])],
]

/// What `DEBUG PROTOCOL map` returns.
private let protocolMap = hash([(0, .boolean(false)), (1, .boolean(true)), (2, .boolean(false))])

// MARK: - Human mode: scalars

@Test func humanBulkString() {
    #expect(human.format("Hello World") == "\"Hello World\"\n")
    #expect(human.format("") == "\"\"\n")
}

@Test func humanBulkStringEscapesLikeSdscatrepr() {
    #expect(human.format(bytes(binaryBytes)) == #""a\"b\n\\\x01\x7f\xe2\x82\xac\t\r\a\b end""# + "\n")
    #expect(human.format(bytes([0x00, 0x1B, 0xFF, 0x41])) == #""\x00\x1b\xffA""# + "\n")
}

@Test func humanStatusIsBare() {
    #expect(human.format(.simple("OK")) == "OK\n")
}

@Test func humanErrors() {
    #expect(human.format(.error("ERR unknown command 'foo'")) == "(error) ERR unknown command 'foo'\n")
    #expect(human.format(bulkError("SYNTAX invalid")) == "(error) SYNTAX invalid\n")
}

@Test func humanIntegers() {
    #expect(human.format(12345) == "(integer) 12345\n")
    #expect(human.format(-3) == "(integer) -3\n")
}

@Test func humanDoubles() {
    #expect(human.format(.double(3.141)) == "(double) 3.141\n")
    #expect(human.format(.double(1.5)) == "(double) 1.5\n")
    #expect(human.format(.double(3)) == "(double) 3\n")
    #expect(human.format(.double(0)) == "(double) 0\n")
    #expect(human.format(.double(-0.0)) == "(double) -0\n")
    #expect(human.format(.double(1e20)) == "(double) 1e+20\n")
    #expect(human.format(.double(.infinity)) == "(double) inf\n")
    #expect(human.format(.double(-.infinity)) == "(double) -inf\n")
    #expect(human.format(.double(.nan)) == "(double) nan\n")
}

@Test func humanNilBooleansBigNumber() {
    #expect(human.format(.null) == "(nil)\n")
    #expect(human.format(.boolean(true)) == "(true)\n")
    #expect(human.format(.boolean(false)) == "(false)\n")
    #expect(human.format(.bigNumber("12345678901234567890")) == "(big number) 12345678901234567890\n")
}

@Test func humanVerbatimIsItsText() {
    #expect(human.format(verbatim("This is a verbatim\nstring")) == "This is a verbatim\nstring\n")
}

@Test func humanAttributesShowTheValue() {
    let v = RESPValue.attributed(attributes: [RESPPair(key: "ttl", value: 3600)], value: "v")
    #expect(human.format(v) == "\"v\"\n")
    #expect(human.format([.attributed(attributes: [], value: 1), 2]) == "1) (integer) 1\n2) (integer) 2\n")
}

// MARK: - Human mode: aggregates

@Test func humanArraySetPush() {
    #expect(human.format([0, 1, 2]) == "1) (integer) 0\n2) (integer) 1\n3) (integer) 2\n")
    #expect(human.format(.set([0, 1, 2])) == "1~ (integer) 0\n2~ (integer) 1\n3~ (integer) 2\n")
    #expect(human.format(.push(["server-cpu-usage", 42])) == "1) \"server-cpu-usage\"\n2) (integer) 42\n")
}

@Test func humanMap() {
    #expect(
        human.format(protocolMap)
            == "1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n3# (integer) 2 => (false)\n"
    )
    let hello = hash([
        ("server", "redis"), ("version", "7.0.15"), ("proto", 3), ("id", 43),
        ("mode", "standalone"), ("role", "master"), ("modules", []),
    ])
    #expect(
        human.format(hello) == """
            1# "server" => "redis"
            2# "version" => "7.0.15"
            3# "proto" => (integer) 3
            4# "id" => (integer) 43
            5# "mode" => "standalone"
            6# "role" => "master"
            7# "modules" => (empty array)

            """
    )
}

@Test func humanEmptyAggregates() {
    #expect(human.format([]) == "(empty array)\n")
    #expect(human.format(.map([])) == "(empty hash)\n")
    #expect(human.format(.set([])) == "(empty set)\n")
    #expect(human.format(.push([])) == "(empty push)\n")
}

@Test func humanNestedArrays() {
    #expect(
        human.format(nestedArrays) == """
            1) (integer) 1
            2) 1) (integer) 2
               2) 1) (integer) 3
                  2) "x"
               3) (empty array)
            3) "y"
            4) 1) (empty array)

            """
    )
}

@Test func humanMixedArray() {
    #expect(
        human.format(mixedArray) == """
            1) (integer) 1
            2) (error) ERR boom
            3) FINE
            4) (nil)
            5) "z"

            """
    )
}

@Test func humanPadsIndexesOfTenOrMoreElements() {
    let letters: [RESPValue] = "abcdefghijk".map { .bulk(String($0)) }
    #expect(
        human.format(.array(letters)) == """
             1) "a"
             2) "b"
             3) "c"
             4) "d"
             5) "e"
             6) "f"
             7) "g"
             8) "h"
             9) "i"
            10) "j"
            11) "k"

            """
    )
    let inner: [RESPValue] = "bcdefghijkl".map { .bulk(String($0)) }
    #expect(
        human.format(["a", .array(inner)]) == """
            1) "a"
            2)  1) "b"
                2) "c"
                3) "d"
                4) "e"
                5) "f"
                6) "g"
                7) "h"
                8) "i"
                9) "j"
               10) "k"
               11) "l"

            """
    )
}

@Test func humanPadsMapIndexesByPairCount() {
    let fields = (1...10).map { (RESPValue.bulk("f\($0)"), RESPValue.bulk("v\($0)")) }
    #expect(
        human.format(hash(fields)) == """
             1# "f1" => "v1"
             2# "f2" => "v2"
             3# "f3" => "v3"
             4# "f4" => "v4"
             5# "f5" => "v5"
             6# "f6" => "v6"
             7# "f7" => "v7"
             8# "f8" => "v8"
             9# "f9" => "v9"
            10# "f10" => "v10"

            """
    )
}

@Test func humanMapBreaksLineBeforeMultilineValues() {
    // From XINFO STREAM: note the space left after "=>" by redis-cli.
    let entry: RESPValue = ["1795271109718-0", ["a", "1", "b", "2"]]
    let info = hash([
        ("length", 1), ("radix-tree-keys", 1), ("radix-tree-nodes", 2), ("last-generated-id", "1795271109718-0"),
        ("max-deleted-entry-id", "0-0"), ("entries-added", 1), ("recorded-first-entry-id", "1795271109718-0"),
        ("groups", 0), ("first-entry", entry), ("last-entry", entry),
    ])
    #expect(
        human.format(info) == """
             1# "length" => (integer) 1
             2# "radix-tree-keys" => (integer) 1
             3# "radix-tree-nodes" => (integer) 2
             4# "last-generated-id" => "1795271109718-0"
             5# "max-deleted-entry-id" => "0-0"
             6# "entries-added" => (integer) 1
             7# "recorded-first-entry-id" => "1795271109718-0"
             8# "groups" => (integer) 0
             9# "first-entry" => \("")
                1) "1795271109718-0"
                2) 1) "a"
                   2) "1"
                   3) "b"
                   4) "2"
            10# "last-entry" => \("")
                1) "1795271109718-0"
                2) 1) "a"
                   2) "1"
                   3) "b"
                   4) "2"

            """
    )
}

@Test func humanResp3Mix() {
    #expect(
        human.format(resp3Mix) == """
            1) (integer) 1
            2) 1# "k1" => \("")
                  1) (integer) 1
                  2) (integer) 2
               2# "k2" => "v"
            3) 1~ "x"
            4) 1# "only" => 1# "a" => "b"
            5) (empty hash)
            6) (empty set)
            7) (double) 0.5
            8) 1) "a"
               2) 1) "b"
            9) 1) 1# "z" => 1) "one"

            """
    )
}

@Test func humanReportInsideAnArrayIsAMap() {
    // Only a report at top level (or a top-level list of reports) is drawn as a table.
    #expect(human.format([report(["role": "master"]), 1]) == "1) 1# role => \"master\"\n2) (integer) 1\n")
}

// MARK: - Human mode: colour

@Test func humanColour() {
    #expect(humanColor.format(7) == cyan("(integer) 7") + "\n")
    #expect(humanColor.format(.double(2.5)) == cyan("(double) 2.5") + "\n")
    #expect(humanColor.format(.bigNumber("9")) == cyan("(big number) 9") + "\n")
    #expect(humanColor.format(.boolean(true)) == cyan("(true)") + "\n")
    #expect(humanColor.format(.error("ERR x")) == red("(error) ERR x") + "\n")
    #expect(humanColor.format(.null) == dim("(nil)") + "\n")
    #expect(humanColor.format([]) == dim("(empty array)") + "\n")
    #expect(humanColor.format(.map([])) == dim("(empty hash)") + "\n")
    // Strings, status replies and index numbers are never coloured.
    #expect(humanColor.format("s") == "\"s\"\n")
    #expect(humanColor.format(.simple("OK")) == "OK\n")
    #expect(humanColor.format(["a", .null]) == "1) \"a\"\n2) " + dim("(nil)") + "\n")
    #expect(humanColor.format(hash([(1, [])])) == "1# " + cyan("(integer) 1") + " => " + dim("(empty array)") + "\n")
}

@Test func colourOffHasNoEscapes() {
    let values: [RESPValue] = [7, .error("E"), .null, [], resp3Mix, mixedArray, report(["a": .null])]
    for value in values {
        #expect(!human.format(value).contains(esc))
    }
}

@Test func rawAndJSONNeverColour() {
    let rawColor = ReplyFormatter(mode: .raw, color: true)
    let jsonColor = ReplyFormatter(mode: .json, color: true)
    let values: [RESPValue] = [7, .error("E"), .null, [.null], resp3Mix, report(["a": .null, "b": .error("E")])]
    for value in values {
        #expect(!rawColor.format(value).contains(esc))
        #expect(!jsonColor.format(value).contains(esc))
        #expect(rawColor.format(value) == raw.format(value))
        #expect(jsonColor.format(value) == json.format(value))
    }
}

// MARK: - Raw mode

@Test func rawScalars() {
    #expect(raw.format("Hello World") == "Hello World\n")
    #expect(raw.format(.simple("OK")) == "OK\n")
    #expect(raw.format(12345) == "12345\n")
    #expect(raw.format(.double(3.141)) == "3.141\n")
    #expect(raw.format(.double(-.infinity)) == "-inf\n")
    #expect(raw.format(.null) == "\n")
    #expect(raw.format(.boolean(true)) == "(true)\n")
    #expect(raw.format(.boolean(false)) == "(false)\n")
    #expect(raw.format(.bigNumber("12345678901234567890")) == "12345678901234567890\n")
    #expect(raw.format(verbatim("This is a verbatim\nstring")) == "This is a verbatim\nstring\n")
    #expect(raw.format(.attributed(attributes: [], value: "v")) == "v\n")
}

@Test func rawErrorIsFollowedByAnEmptyLine() {
    #expect(raw.format(.error("ERR unknown command 'foo'")) == "ERR unknown command 'foo'\n\n")
    #expect(raw.format(bulkError("ERR b")) == "ERR b\n\n")
}

@Test func rawStringsAreTheirBytes() {
    #expect(raw.formatBytes(bytes(binaryBytes)) == binaryBytes + [0x0A])
    #expect(raw.formatBytes(bytes([0x00, 0xFF])) == [0x00, 0xFF, 0x0A])
    // format(_:) returns a String: invalid UTF-8 is repaired.
    #expect(raw.format(bytes([0x41, 0xFF])) == "A\u{FFFD}\n")
}

@Test func rawAggregates() {
    #expect(raw.format([0, 1, 2]) == "0\n1\n2\n")
    #expect(raw.format(.set([0, 1, 2])) == "0\n1\n2\n")
    #expect(raw.format(.push(["server-cpu-usage", 42])) == "server-cpu-usage\n42\n")
    #expect(raw.format(protocolMap) == "0 (false)\n1 (true)\n2 (false)\n")
    #expect(raw.format(nestedArrays) == "1\n2\n3\nx\n\ny\n\n")
    #expect(raw.format(mixedArray) == "1\nERR boom\n\nFINE\n\nz\n")
    #expect(raw.format(resp3Mix) == "1\nk1 1\n2\nk2 v\nx\nonly a b\n\n\n0.5\na\nb\nz one\n")
}

@Test func rawEmptyAggregateAtTopLevelPrintsNothing() {
    #expect(raw.format([]) == "")
    #expect(raw.format(.set([])) == "")
    #expect(raw.format(.push([])) == "")
    #expect(raw.format(.map([])) == "")
    #expect(raw.formatBytes([]) == [])
    // Nested, an empty aggregate is an empty line, as in redis-cli.
    #expect(raw.format([[]]) == "\n")
    #expect(raw.format([[], "a"]) == "\na\n")
}

// MARK: - JSON mode

@Test func jsonScalars() {
    #expect(json.format("Hello World") == "\"Hello World\"\n")
    #expect(json.format(.simple("OK")) == "\"OK\"\n")
    #expect(json.format(12345) == "12345\n")
    #expect(json.format(-7) == "-7\n")
    #expect(json.format(.null) == "null\n")
    #expect(json.format(.boolean(true)) == "true\n")
    #expect(json.format(.boolean(false)) == "false\n")
    #expect(json.format(.bigNumber("12345678901234567890")) == "\"12345678901234567890\"\n")
    #expect(json.format(verbatim("This is a verbatim\nstring")) == #""This is a verbatim\nstring""# + "\n")
    #expect(json.format(.attributed(attributes: [RESPPair(key: "a", value: 1)], value: 5)) == "5\n")
}

@Test func jsonDoubles() {
    #expect(json.format(.double(3.141)) == "3.141\n")
    #expect(json.format(.double(3)) == "3\n")
    #expect(json.format(.double(1e20)) == "1e+20\n")
    #expect(json.format(.double(1e-7)) == "1e-07\n")
    #expect(json.format(.double(.infinity)) == "\"inf\"\n")
    #expect(json.format(.double(-.infinity)) == "\"-inf\"\n")
    #expect(json.format(.double(.nan)) == "\"nan\"\n")
}

@Test func jsonErrors() {
    #expect(json.format(.error("ERR boom")) == #"{"error":"ERR boom"}"# + "\n")
    #expect(json.format(bulkError("ERR \"q\"")) == #"{"error":"ERR \"q\""}"# + "\n")
    #expect(json.format(mixedArray) == #"[1,{"error":"ERR boom"},"FINE",null,"z"]"# + "\n")
}

@Test func jsonStringEscaping() {
    #expect(json.format("a\"b\\c/d") == #""a\"b\\c/d""# + "\n")
    #expect(json.format("\u{08}\u{0C}\n\r\t") == #""\b\f\n\r\t""# + "\n")
    #expect(json.format(bytes([0x00, 0x01, 0x1F, 0x7F])) == #""\u0000\u0001\u001f\u007f""# + "\n")
    #expect(json.format(bytes(binaryBytes)) == #""a\"b\n\\\u0001\u007f€\t\r\u0007\b end""# + "\n")
    #expect(json.format("héllo 日本 🎉") == "\"héllo 日本 🎉\"\n")
    // Invalid UTF-8 becomes U+FFFD.
    #expect(json.format(bytes([0x61, 0xFF, 0x62, 0xC3])) == "\"a\u{FFFD}b\u{FFFD}\"\n")
}

@Test func jsonAggregates() {
    #expect(json.format(nestedArrays) == "[1,[2,[3,\"x\"],[]],\"y\",[[]]]\n")
    #expect(json.format(.set([0, 1, 2])) == "[0,1,2]\n")
    #expect(json.format(.push(["message", "ch", "hi"])) == "[\"message\",\"ch\",\"hi\"]\n")
    #expect(json.format([]) == "[]\n")
    #expect(json.format(.set([])) == "[]\n")
    #expect(json.format(.map([])) == "{}\n")
    #expect(
        json.format(resp3Mix)
            == #"[1,{"k1":[1,2],"k2":"v"},["x"],{"only":{"a":"b"}},{},[],0.5,["a",["b"]],[{"z":["one"]}]]"# + "\n"
    )
}

@Test func jsonMapsWithNonStringKeysArePairs() {
    #expect(json.format(protocolMap) == "[[0,false],[1,true],[2,false]]\n")
    #expect(json.format(hash([("a", 1), (2, "b")])) == #"[["a",1],[2,"b"]]"# + "\n")
    #expect(json.format(hash([(.simple("s"), 1), (verbatim("v"), 2)])) == #"{"s":1,"v":2}"# + "\n")
}

@Test func jsonIsOneLine() {
    let out = json.format(hash([("multi\nline", "a\nb"), ("list", [1, 2])]))
    #expect(out == #"{"multi\nline":"a\nb","list":[1,2]}"# + "\n")
    #expect(out.filter { $0 == "\n" }.count == 1)
}

// MARK: - Reports

private let replicaRows: RESPValue = [
    report(["addr": "127.0.0.1:6380", "state": .simple("online"), "offset": 1234]),
    report(["addr": "127.0.0.1:6381", "offset": 0]),
    report(["addr": "10.0.0.7:6379", "state": .simple("wait_bgsave"), "offset": 0, "lag": .double(0.25)]),
]

private let serverReport = report([
    "role": .simple("master"),
    "port": 6379,
    "healthy": .boolean(true),
    "lag": .null,
    "replicas": replicaRows,
    "memory_ratio": .double(0.5),
])

@Test func isReportRecognisesRedkeepMaps() {
    #expect(ReplyFormatter.isReport(report(["a": 1])))
    #expect(ReplyFormatter.isReport(.attributed(attributes: [], value: report(["a": 1]))))
    #expect(!ReplyFormatter.isReport(hash([("a", 1)])))  // Redis keys its maps with bulk strings
    #expect(!ReplyFormatter.isReport(hash([(.simple("a"), 1), ("b", 2)])))
    #expect(!ReplyFormatter.isReport(.map([])))
    #expect(!ReplyFormatter.isReport([report(["a": 1])]))
    #expect(!ReplyFormatter.isReport(.simple("a")))
    #expect(ReplyFormatter.isReportList([report(["a": 1]), report(["b": 2])]))
    #expect(!ReplyFormatter.isReportList([report(["a": 1]), 2]))
    #expect(!ReplyFormatter.isReportList([]))
}

@Test func humanReportIsAnAlignedTable() {
    let r = report([
        "role": .simple("master"),
        "port": 6379,
        "healthy": .boolean(true),
        "degraded": .boolean(false),
        "lag": .null,
        "ratio": .double(0.5),
        "path": "/var/lib/redis/dump.rdb",
        "total": .bigNumber("123456789012345678901"),
    ])
    #expect(
        human.format(r) == """
            role      master
            port      6379
            healthy   yes
            degraded  no
            lag       -
            ratio     0.5
            path      /var/lib/redis/dump.rdb
            total     123456789012345678901

            """
    )
}

@Test func humanReportSubTable() {
    #expect(
        human.format(serverReport) == """
            role          master
            port          6379
            healthy       yes
            lag           -
            replicas:
              addr            state        offset  lag
              127.0.0.1:6380  online       1234    -
              127.0.0.1:6381  -            0       -
              10.0.0.7:6379   wait_bgsave  0       0.25
            memory_ratio  0.5

            """
    )
}

@Test func humanReportSubTableColour() {
    let r = report(["rows": [report(["a": 1, "b": .null]), report(["a": .error("ERR x")])]])
    #expect(
        humanColor.format(r) == "rows:\n"
            + "  " + bold("a") + String(repeating: " ", count: 14) + bold("b") + "\n"
            + "  1" + String(repeating: " ", count: 14) + dim("-") + "\n"
            + "  " + red("(error) ERR x") + "  " + dim("-") + "\n"
    )
}

@Test func humanNestedReportsIndentByTwo() {
    let r = report([
        "name": "lab-1",
        "persistence": report([
            "aof": .boolean(true),
            "rdb_saves": 3,
            "files": [report(["file": "appendonly.aof.1.base.rdb", "size": 88]), report(["file": "x", "size": 0])],
        ]),
    ])
    #expect(
        human.format(r) == """
            name  lab-1
            persistence:
              aof        yes
              rdb_saves  3
              files:
                file                       size
                appendonly.aof.1.base.rdb  88
                x                          0

            """
    )
}

@Test func humanReportListsAndEmptyValues() {
    let r = report([
        "modules": ["search", "json"],
        "replicas": [],
        "flags": .set([.simple("a"), 2, .null]),
        "note": "",
    ])
    #expect(
        human.format(r) == """
            modules   search, json
            replicas  (none)
            flags     a, 2, -
            note

            """
    )
}

@Test func humanReportEscapesControlCharacters() {
    let r = report(["text": "two\nlines\ttab", "bin": bytes([0x61, 0xFF, 0x00]), "uni": "café ✓"])
    #expect(
        human.format(r) == #"""
            text  two\nlines\ttab
            bin   a\xff\x00
            uni   café ✓

            """#
    )
}

@Test func humanReportPadsByCharacters() {
    let r = report(["rows": [report(["name": "café", "n": 1]), report(["name": "ab", "n": 22])]])
    #expect(
        human.format(r) == """
            rows:
              name  n
              café  1
              ab    22

            """
    )
}

@Test func humanReportKeepsRedisRepliesInRedisCliLook() {
    let r = report([
        "key": "user:1",
        "reply": [[1, 2], "x"],
        "fields": hash([("a", "b")]),
    ])
    #expect(
        human.format(r) == """
            key  user:1
            reply:
              1) 1) (integer) 1
                 2) (integer) 2
              2) "x"
            fields:
              1# "a" => "b"

            """
    )
}

@Test func humanReportTableCellsWithAggregates() {
    let r = report([
        "nodes": [
            report(["id": "n1", "slots": [1, 2, 3], "meta": hash([("k", "v")])]),
            report(["id": "n2", "slots": [], "meta": [[1]]]),
        ]
    ])
    #expect(
        human.format(r) == """
            nodes:
              id  slots    meta
              n1  1, 2, 3  {"k":"v"}
              n2  (none)   [[1]]

            """
    )
}

@Test func humanTableOmitsTrailingEmptyCells() {
    let rows: RESPValue = [report(["a": "x", "b": ""]), report(["a": "long value", "b": "y"])]
    #expect(human.format(rows) == "a           b\nx\nlong value  y\n")
}

@Test func humanTopLevelListOfReportsIsATable() {
    #expect(
        human.format(replicaRows) == """
            addr            state        offset  lag
            127.0.0.1:6380  online       1234    -
            127.0.0.1:6381  -            0       -
            10.0.0.7:6379   wait_bgsave  0       0.25

            """
    )
}

@Test func rawReportIsPathValueLines() {
    #expect(
        raw.format(serverReport) == """
            role:master
            port:6379
            healthy:yes
            lag:
            replicas.0.addr:127.0.0.1:6380
            replicas.0.state:online
            replicas.0.offset:1234
            replicas.1.addr:127.0.0.1:6381
            replicas.1.offset:0
            replicas.2.addr:10.0.0.7:6379
            replicas.2.state:wait_bgsave
            replicas.2.offset:0
            replicas.2.lag:0.25
            memory_ratio:0.5

            """
    )
}

@Test func rawReportNestingAndEscaping() {
    let r = report([
        "persistence": report(["aof": .boolean(false), "dir": "/data"]),
        "modules": ["search", "json"],
        "empty": [],
        "note": "a\nb\r",
        "err": .error("ERR x"),
        "big": .bigNumber("99"),
        "reply": hash([("f", "v")]),
    ])
    #expect(
        raw.format(r) == #"""
            persistence.aof:no
            persistence.dir:/data
            modules.0:search
            modules.1:json
            empty:
            note:a\nb\r
            err:ERR x
            big:99
            reply.f:v

            """#
    )
    #expect(raw.format(replicaRows).hasPrefix("0.addr:127.0.0.1:6380\n0.state:online\n"))
    #expect(raw.formatBytes(report(["b": bytes([0xFF])])) == Array("b:".utf8) + [0xFF, 0x0A])
}

@Test func jsonReportIsAnObject() {
    #expect(
        json.format(serverReport)
            == #"{"role":"master","port":6379,"healthy":true,"lag":null,"replicas":[{"addr":"127.0.0.1:6380","state":"online","offset":1234},{"addr":"127.0.0.1:6381","offset":0},{"addr":"10.0.0.7:6379","state":"wait_bgsave","offset":0,"lag":0.25}],"memory_ratio":0.5}"#
            + "\n"
    )
}

// MARK: - Every mode

@Test(arguments: OutputMode.allCases)
func everyOutputEndsWithANewline(mode: OutputMode) {
    let values: [RESPValue] = [
        "s", .simple("OK"), .error("E"), bulkError("E"), 1, .double(1.5), .null, .boolean(true),
        .bigNumber("1"), verbatim("v"), [1], .set([1]), .push([1]), protocolMap, resp3Mix,
        serverReport, replicaRows, .attributed(attributes: [], value: 1),
    ]
    for color in [false, true] {
        let formatter = ReplyFormatter(mode: mode, color: color)
        for value in values {
            #expect(formatter.format(value).hasSuffix("\n"), "\(mode) \(value)")
        }
    }
}

@Test func outputModeNames() {
    #expect(OutputMode.allCases.map(\.rawValue) == ["human", "raw", "json"])
    #expect(OutputMode(rawValue: "json") == .json)
}

// MARK: - Commands redis-cli prints verbatim

@Test func verbatimRepliesAreRawText() {
    let info: RESPValue = "# Server\r\nredis_version:7.0.15\r\n"
    #expect(human.format(info, verbatim: true) == "# Server\r\nredis_version:7.0.15\r\n")
    #expect(raw.format(info, verbatim: true) == "# Server\r\nredis_version:7.0.15\r\n")
    #expect(human.format(info, verbatim: false) == ##""# Server\r\nredis_version:7.0.15\r\n""## + "\n")
    #expect(human.format("no newline", verbatim: true) == "no newline\n")
    #expect(human.format(.error("ERR This instance has cluster support disabled"), verbatim: true)
        == "ERR This instance has cluster support disabled\n")
    #expect(human.format(.null, verbatim: true) == "")
    #expect(humanColor.format(.error("ERR x"), verbatim: true) == "ERR x\n")
    #expect(json.format(info, verbatim: true) == ##""# Server\r\nredis_version:7.0.15\r\n""## + "\n")
    #expect(raw.formatBytes(bytes([0xFF, 0x0A]), verbatim: true) == [0xFF, 0x0A])
}

@Test func commandsPrintedVerbatim() {
    #expect(ReplyFormatter.printsVerbatim(command: ["INFO"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["info", "replication"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["lolwut", "version", "5"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["CLIENT", "LIST"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["client", "info"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["cluster", "nodes"]))
    #expect(!ReplyFormatter.printsVerbatim(command: ["cluster", "nodes", "x"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["memory", "doctor"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["MEMORY", "MALLOC-STATS"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["debug", "htstats", "0"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["latency", "graph", "command"]))
    #expect(!ReplyFormatter.printsVerbatim(command: ["latency", "graph"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["latency", "doctor"]))
    #expect(ReplyFormatter.printsVerbatim(command: ["proxy", "info"]))
    #expect(!ReplyFormatter.printsVerbatim(command: ["get", "info"]))
    #expect(!ReplyFormatter.printsVerbatim(command: ["memory", "stats"]))
    #expect(!ReplyFormatter.printsVerbatim(command: []))
}
