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

    // MARK: - Nesting

    /// Each case nests `levels` deep; within the bound it parses, one past it is a syntax
    /// error at the opening of the level past the bound. Deep nesting used to overflow the
    /// stack (about 7,000 `if 1 {` or 4,000 `$(`), killing the process.
    static func nested(_ kind: String, _ levels: Int) -> String {
        switch kind {
        case "blocks": return String(repeating: "if 1 {\n", count: levels) + String(repeating: "}\n", count: levels)
        case "substitutions": return "echo " + String(repeating: "$(echo ", count: levels) + "x" + String(repeating: ")", count: levels)
        case "quoted": return "echo " + String(repeating: "\"$(echo ", count: levels) + "x" + String(repeating: ")\"", count: levels)
        case "else-if": return "if 0 { }" + String(repeating: " else if 0 { }", count: levels)
        case "parentheses": return "if " + String(repeating: "( ", count: levels) + "1" + String(repeating: " )", count: levels) + " { }"
        case "not": return "assert " + String(repeating: "not ", count: levels) + "1"
        case "and": return "wait-until 1" + String(repeating: " and 1", count: levels)
        case "let": return String(repeating: "let a = ", count: levels) + "GET k"
        default: return String(repeating: "repeat 1 {\n", count: levels / 2) + "echo " + String(repeating: "$(echo ", count: levels - levels / 2)
            + "x" + String(repeating: ")", count: levels - levels / 2) + String(repeating: "\n}", count: levels / 2)
        }
    }

    @Test(arguments: ["blocks", "substitutions", "quoted", "else-if", "parentheses", "not", "and", "let", "blocks-and-substitutions"])
    func nestingIsBoundedWithAClearError(_ kind: String) throws {
        // Each `else if` counts one more than the `if` before it, whose block is one level.
        let outer = kind == "else-if" ? 1 : 0
        if case .failure(let error) = parse(Self.nested(kind, Parser.maxNesting - outer)) {
            Issue.record("\(kind): \(Parser.maxNesting) levels must parse: \(error)")
        }
        guard case .failure(let error) = parse(Self.nested(kind, Parser.maxNesting - outer + 1)) else {
            Issue.record("\(kind): \(Parser.maxNesting + 1) levels parsed")
            return
        }
        #expect(error.kind == .syntax, "\(kind): \(error)")
        #expect(error.message == "nested too deeply: blocks, else if, $( ), let chains and conditions nest at most 128 levels")
        #expect(error.location != nil)
    }

    @Test func thousandsOfLevelsFailAtTheBoundInsteadOfOverflowingTheStack() throws {
        for (kind, levels) in [("blocks", 7_000), ("substitutions", 4_000), ("quoted", 4_000), ("else-if", 20_000),
                               ("parentheses", 50_000), ("not", 100_000), ("let", 50_000)] {
            guard case .failure(let error) = parse(Self.nested(kind, levels)) else {
                Issue.record("\(kind): \(levels) levels parsed")
                continue
            }
            #expect(error.message.hasPrefix("nested too deeply"), "\(kind): \(error)")
        }
        // The error is at the 129th opening, not wherever the stack ran out.
        guard case .failure(let blocks) = parse(Self.nested("blocks", 7_000)) else { return }
        #expect(blocks.location?.line == 129 && blocks.location?.column == 6)
        guard case .failure(let substitutions) = parse(Self.nested("substitutions", 4_000)) else { return }
        #expect(substitutions.location?.offset == "echo ".utf8.count + 128 * "$(echo ".utf8.count)
    }

    @Test func tooDeepIsNotIncomplete() {
        // At the prompt, an incomplete statement asks for more lines; a statement already
        // too deep can never be completed, so it is an error at once.
        #expect(Interpreter.isIncomplete(String(repeating: "if 1 {\n", count: 128)))
        #expect(!Interpreter.isIncomplete(String(repeating: "if 1 {\n", count: 129)))
    }
}
