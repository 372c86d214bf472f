import Testing

@testable import Shell

@Suite struct ParserTests {
    @Test func blocksNest() throws {
        let statements = try parse("""
            repeat 2 {
              for x in a b {
                SET $x 1
              }
            }
            GET a
            """).get()
        #expect(shape(statements) == [["repeat", "2"], ["GET", "a"]])
        let inner = statements[0].block![0]
        #expect(shape([inner]) == [["for", "<sub>", "in", "a", "b"]].map { $0.map { $0 == "<sub>" ? "x" : $0 } })
        #expect(shape(inner.block!) == [["SET", "<sub>", "1"]])
    }

    @Test func ifElseIfElse() throws {
        let statements = try parse("""
            if $a == 1 { echo one } else if $a == 2 {
              echo two
            }
            else { echo other }
            echo after
            """).get()
        #expect(statements.count == 2)
        guard case .statement(let elseIf)? = statements[0].elseBranch else { Issue.record("no else if"); return }
        #expect(elseIf.keyword == "if")
        guard case .block(let last)? = elseIf.elseBranch else { Issue.record("no else"); return }
        #expect(shape(last) == [["echo", "other"]])
        #expect(shape([statements[1]]) == [["echo", "after"]])
    }

    @Test func statementTextAndRange() throws {
        let statements = try parse("SET a 1\n  multi { INCR a; INCR a }  \nGET a").get()
        #expect(statements[0].text == "SET a 1")
        #expect(statements[1].text == "multi { INCR a; INCR a }")
        #expect(statements[2].location.line == 3)
    }

    @Test func structuralErrors() {
        let cases: [(String, ShellError.Kind, String, Int, Int)] = [
            ("repeat 3 { echo hi", .incomplete, "missing } to close the block opened at line 1, column 10", 1, 10),
            ("echo hi }", .syntax, "unexpected }: no block is open", 1, 9),
            ("{ echo hi }", .syntax, "a block must follow a statement that takes one", 1, 1),
            ("SET k v { x }", .syntax, "SET does not take a block", 1, 9),
            ("repeat 3\necho x", .syntax, "repeat needs a block: repeat N { ... }", 1, 1),
            ("else { echo x }", .syntax, "else without if", 1, 1),
            ("if 1 { echo a } else echo b", .syntax, "else must be followed by { or by if", 1, 17),
        ]
        for (text, kind, message, line, column) in cases {
            guard case .failure(let error) = parse(text) else { Issue.record("\(text) parsed"); continue }
            #expect(error.kind == kind, "\(text): \(error)")
            #expect(error.message.contains(message), "\(text): \(error.message)")
            #expect(error.location?.line == line && error.location?.column == column, "\(text): \(error)")
        }
    }

    @Test func statementsAreClassifiedWhenParsed() throws {
        let statements = try parse("""
            SET a 1
            SET $k "quoted value"
            'GET' a
            save
            @replica GET a
            let n = INCR a
            IF $n == 1 { echo one }
            MULTI
            multi
            multi { INCR a }
            redis SAVE
            """).get()
        #expect(statements.map(\.kind) == [
            .redis(literal: true), .redis(literal: false), .redis(literal: true), .redkeepCommand, .redirected,
            .keyword(.let), .keyword(.if), .keyword(.multi), .keyword(.multi), .keyword(.multi), .keyword(.redis),
        ])
        // Keywords are found in any case, as commands are; MULTI without a block is Redis's.
        #expect(statements[6].block != nil)
        #expect(statements[7].block == nil && statements[8].block == nil && statements[9].block != nil)
    }

    @Test func repliesThatPrintVerbatimAreKnownWhenParsed() throws {
        let verbatim = try parse("INFO\ninfo server\nCLIENT LIST\n@r INFO\n@r redis INFO\nredis INFO\nINFO $section\n'info'").get()
        #expect(verbatim.map { $0.printsVerbatim } == Array(repeating: true, count: 8))
        let plain = try parse("GET info\nCLIENT SETNAME x\necho INFO\nlet i = INFO\n$cmd server\nCLIENT $sub").get()
        #expect(plain.map { $0.printsVerbatim } == Array(repeating: false, count: 6))
    }

    @Test func incompleteInputIsRecognisedForThePrompt() {
        #expect(Interpreter.isIncomplete("pipeline {"))
        #expect(Interpreter.isIncomplete("SET k \"multi"))
        #expect(Interpreter.isIncomplete("SET k \\"))
        #expect(!Interpreter.isIncomplete("SET k v"))
        #expect(!Interpreter.isIncomplete("echo }"))  // an error, but not one more lines can fix
    }
}
