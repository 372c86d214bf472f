import Testing

@testable import Shell

@Suite struct LexerTests {
    @Test func wordsSeparatorsAndComments() throws {
        let statements = try parse("SET k v ; GET k   # a comment\n\n  INCR   n;DEL a\n# only a comment\n").get()
        #expect(shape(statements) == [["SET", "k", "v"], ["GET", "k"], ["INCR", "n"], ["DEL", "a"]])
    }

    @Test func hashInsideAWordIsText() throws {
        #expect(shape(try parse("SET tag a#b").get()) == [["SET", "tag", "a#b"]])
        #expect(shape(try parse("SET tag '#notacomment'").get()) == [["SET", "tag", "#notacomment"]])
    }

    @Test func doubleQuotesTakeRedisCliEscapes() throws {
        let statements = try parse(#"SET k "a\tb\n\x41\"\\\$z" "#).get()
        guard case .literal(let bytes) = statements[0].words[2].parts[0] else { Issue.record("not literal"); return }
        #expect(bytes == Array("a\tb\nA\"\\$z".utf8))
        // Any byte, even invalid UTF-8.
        let binary = try parse(#"SET k "\xff\x00""#).get()
        guard case .literal(let raw) = binary[0].words[2].parts[0] else { Issue.record("not literal"); return }
        #expect(raw == [0xFF, 0x00])
    }

    @Test func singleQuotesAreLiteral() throws {
        let statements = try parse(#"SET k 'a $b \n "c" \' d'"#).get()
        #expect(statements[0].words[2].literalText == #"a $b \n "c" ' d"#)
        #expect(statements[0].words[2].isQuoted)
    }

    @Test func quotedPiecesJoinIntoOneWord() throws {
        #expect(shape(try parse(#"SET k pre"mid dle"'post'"#).get()) == [["SET", "k", "premid dlepost"]])
        #expect(shape(try parse(#"SET k """#).get()) == [["SET", "k", ""]])
    }

    @Test func lineContinuation() throws {
        #expect(shape(try parse("SET k \\\n  v\nGET k").get()) == [["SET", "k", "v"], ["GET", "k"]])
        #expect(shape(try parse("SET k \\\r\n  v").get()) == [["SET", "k", "v"]])
    }

    @Test func bracesStandAloneOnly() throws {
        let statements = try parse("repeat 2 { SET user:{42} x }").get()
        #expect(shape(statements) == [["repeat", "2"]])
        #expect(shape(statements[0].block ?? []) == [["SET", "user:{42}", "x"]])
        // Quoted braces are words.
        #expect(shape(try parse(#"SET k "{""#).get()) == [["SET", "k", "{"]])
    }

    @Test func substitutions() throws {
        let statements = try parse(#"SET $key ${info.role} ${list[2]} "n=$n!" $(GET x) $1 $# $ cost$"#).get()
        let words = statements[0].words
        #expect(words[1].parts == [.variable(VariableReference(name: "key", path: []))])
        #expect(words[2].parts == [.variable(VariableReference(name: "info", path: [.field("role")]))])
        #expect(words[3].parts == [.variable(VariableReference(name: "list", path: [.index(2)]))])
        #expect(words[4].parts == [.literal(Array("n=".utf8)), .variable(VariableReference(name: "n", path: [])), .literal([UInt8(ascii: "!")])])
        guard case .command(let inner, _) = words[5].parts[0] else { Issue.record("not a command substitution"); return }
        #expect(shape(inner) == [["GET", "x"]])
        #expect(words[6].parts == [.variable(VariableReference(name: "1", path: []))])
        #expect(words[7].parts == [.variable(VariableReference(name: "#", path: []))])
        #expect(words[8].literalText == "$")
        #expect(words[9].literalText == "cost$")
    }

    @Test func nestedCommandSubstitutionWithParenthesesInQuotes() throws {
        let statements = try parse(#"echo $(GET "a)b") $(ECHO $(GET k))"#).get()
        guard case .command(let first, _) = statements[0].words[1].parts[0],
              case .command(let second, _) = statements[0].words[2].parts[0] else { Issue.record("no substitutions"); return }
        #expect(shape(first) == [["GET", "a)b"]])
        #expect(second[0].words.count == 2)
    }

    @Test func unterminatedThingsAreIncompleteWithTheirLocation() {
        let cases: [(String, Int, Int, String)] = [
            ("SET k \"abc", 1, 7, "unterminated double quote"),
            ("SET k 'abc", 1, 7, "unterminated single quote"),
            ("GET k\nSET $(GET x", 2, 5, "unterminated $("),
            ("echo ${name", 1, 6, "unterminated ${"),
            ("SET k \\", 1, 7, "continues"),
        ]
        for (text, line, column, message) in cases {
            guard case .failure(let error) = parse(text) else { Issue.record("\(text) parsed"); continue }
            #expect(error.kind == .incomplete, "\(text)")
            #expect(error.location?.line == line && error.location?.column == column, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }

    @Test func badEscapesAndReferencesAreSyntaxErrors() {
        guard case .failure(let bad) = parse(#"SET k "\xZZ""#) else { Issue.record("parsed"); return }
        #expect(bad.kind == .syntax)
        #expect(bad.message.contains("\\x must be followed by two hex digits"))
        guard case .failure(let reference) = parse("echo ${a..b}") else { Issue.record("parsed"); return }
        #expect(reference.message.contains("invalid variable reference ${a..b}"))
    }

    @Test func errorsRenderTheLineWithACaret() {
        guard case .failure(let error) = parse("SET a 1\n  SET k \"oops\n") else { Issue.record("parsed"); return }
        #expect(error.description == "t.rk:2:9: unterminated double quote\n      SET k \"oops\n            ^")
    }
}
