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

    @Test func incompleteInputIsRecognisedForThePrompt() {
        #expect(Interpreter.isIncomplete("pipeline {"))
        #expect(Interpreter.isIncomplete("SET k \"multi"))
        #expect(Interpreter.isIncomplete("SET k \\"))
        #expect(!Interpreter.isIncomplete("SET k v"))
        #expect(!Interpreter.isIncomplete("echo }"))  // an error, but not one more lines can fix
    }
}
