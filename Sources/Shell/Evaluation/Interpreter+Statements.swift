import Foundation
import NIOCore
import RESP

extension Interpreter {
    /// Runs one statement and returns its value (nil: nothing to print).
    func execute(_ statement: Statement, capturing: Bool = false) async throws -> RESPValue? {
        try Task.checkCancellation()
        // `echo` statements are not echoed: their output already says what they are.
        if configuration.echo && quiet == 0 && statement.head != "echo" {
            let line = "> " + SecretFilter.redact(statement.text) + "\n"
            emit(.text(line))
        }
        let words = statement.words
        let location = statement.location

        switch statement.kind {
        case .redis(let literal):
            // The common case, first.
            let command = literal ? PreparedCommand(literal: words[...], reusing: &encodingBuffer) : try await prepare(words[...])
            return try await sendRedis(command, to: nil, capturing: capturing, at: location)
        case .redkeepCommand:
            let entry = CommandRegistry.entry(forLowercased: statement.head!)!
            let arguments = try await expandTexts(words.dropFirst())
            return try await entry.run!(arguments, self, CommandInvocation(target: nil, location: location, statement: statement))
        case .redirected:
            // @name CMD ...: the statement goes to connection `name`.
            let first = words[0].bareText!
            let rest = words.dropFirst()
            guard !rest.isEmpty else { throw ShellError(.usage, "\(first) needs a command after it", at: location) }
            let target = String(first.dropFirst())
            let name = rest.first!.bareText?.lowercased()
            if let entry = name.flatMap(CommandRegistry.entry(forLowercased:)) {
                let arguments = try await expandTexts(rest.dropFirst())
                return try await entry.run!(arguments, self, CommandInvocation(target: target, location: location, statement: statement))
            }
            return try await sendRedis(try await prepare(Statement.droppingRedisPrefix(rest)), to: target, capturing: capturing, at: location)
        case .keyword(let keyword):
            switch keyword {
            case .let: return try await executeLet(statement)
            case .if: return try await executeIf(statement)
            case .repeat: return try await executeRepeat(statement)
            case .for: return try await executeFor(statement)
            case .assert: return try await executeAssert(statement)
            case .waitUntil: return try await executeWaitUntil(statement)
            case .pipeline: return try await executePipeline(statement)
            case .multi:
                if statement.block != nil { return try await executeMulti(statement) }
                // MULTI with no block is Redis's own.
                return try await sendRedis(try await prepare(words[...]), to: nil, capturing: capturing, at: location)
            case .transaction: return try await executeTransaction(statement)
            case .abort:
                let reason = words.count > 1 ? try await expandTexts(words[1...]).joined(separator: " ") : "aborted"
                throw AbortSignal(reason: reason, location: location)
            case .exit:
                let text = words.count > 1 ? try await expandText(words[1]) : "0"
                // A process exits with the code's low 8 bits: 256 would read as success.
                guard let code = Int32(text), (0...255).contains(code) else {
                    throw ShellError(.usage, "exit takes a code from 0 to 255, not \"\(text)\": exit [CODE]", at: location)
                }
                throw ExitSignal(code: code)
            case .redis:
                guard words.count > 1 else { throw ShellError(.usage, "redis needs a command: redis CMD [ARG...]", at: location) }
                return try await sendRedis(try await prepare(words.dropFirst()), to: nil, capturing: capturing, at: location)
            }
        }
    }

    // MARK: - let

    private func executeLet(_ statement: Statement) async throws -> RESPValue? {
        let words = statement.words
        guard words.count >= 4, let name = words[1].bareText, words[2].bareText == "=" else {
            throw ShellError(.usage, "let needs a name, = and a value: let NAME = STATEMENT, or let NAME = WORD", at: statement.location)
        }
        guard name.first.map({ $0.isLetter || $0 == "_" }) == true,
              name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ShellError(.usage, "invalid variable name \"\(name)\": use letters, digits and _", at: words[1].location)
        }
        let rest = Array(words.dropFirst(3))
        let value: RESPValue
        if rest.count == 1 && statement.block == nil && !isStatementWord(rest[0]) {
            value = try await self.value(of: rest[0])
        } else {
            let inner = Statement(words: rest, block: statement.block, elseBranch: statement.elseBranch,
                                  location: rest[0].location, range: rest[0].location.offset..<statement.range.upperBound)
            value = try await capture([inner], at: rest[0].location)
        }
        variables[name] = value
        return nil
    }

    /// A lone word after `let NAME =` is a statement when it is a redkeep word
    /// (`let c = connections`); otherwise it is a value (`let k = user:42`).
    private func isStatementWord(_ word: Word) -> Bool {
        guard let text = word.bareText else { return false }
        return CommandRegistry.entry(for: text) != nil
    }

    // MARK: - if, repeat, for

    private func executeIf(_ statement: Statement) async throws -> RESPValue? {
        let (condition, _) = try Expression.parse(Array(statement.words.dropFirst()), allowTrailing: false, at: statement.location)
        if try await evaluate(condition) {
            try await runBlock(statement.block ?? [])
        } else if let branch = statement.elseBranch {
            switch branch {
            case .block(let block): try await runBlock(block)
            case .statement(let elseIf): _ = try await executeIf(elseIf)
            }
        }
        return nil
    }

    private func executeRepeat(_ statement: Statement) async throws -> RESPValue? {
        guard statement.words.count == 2 else {
            throw ShellError(.usage, "repeat takes one count: repeat N { ... }", at: statement.location)
        }
        let text = try await expandText(statement.words[1])
        guard let count = Int(text), count >= 0 else {
            throw ShellError(.usage, "repeat needs a count of 0 or more, not \"\(text)\"", at: statement.words[1].location)
        }
        for _ in 0..<count {
            try Task.checkCancellation()
            try await runBlock(statement.block ?? [])
        }
        return nil
    }

    private func executeFor(_ statement: Statement) async throws -> RESPValue? {
        let words = statement.words
        guard words.count >= 3, let name = words[1].bareText, words[2].bareText == "in" else {
            throw ShellError(.usage, "for needs a name and in: for NAME in WORD... { ... }", at: statement.location)
        }
        var items: [RESPValue] = []
        for word in words.dropFirst(3) {
            let value = try await self.value(of: word)
            // A substituted array ($(KEYS user:*)) gives one item per element.
            if word.isLiteral {
                items.append(value)
            } else if let elements = value.elements {
                items += elements
            } else {
                items.append(value)
            }
        }
        for item in items {
            variables[name] = item
            try await runBlock(statement.block ?? [])
        }
        return nil
    }

    /// Runs a block's statements, printing their values as the prompt would.
    func runBlock(_ block: [Statement]) async throws {
        for statement in block {
            if let value = try await execute(statement) { show(value, verbatim: statement.printsVerbatim) }
        }
    }

    // MARK: - Conditions

    func evaluate(_ expression: Expression) async throws -> Bool {
        switch expression {
        case .operand(let word): return try await value(of: word).isTruthy
        case .compare(let l, let op, let r): return compare(try await value(of: l), op, try await value(of: r))
        case .exists(let name, _): return variables[name] != nil
        case .not(let e): return !(try await evaluate(e))
        case .and(let a, let b):
            guard try await evaluate(a) else { return false }
            return try await evaluate(b)
        case .or(let a, let b):
            if try await evaluate(a) { return true }
            return try await evaluate(b)
        }
    }
}
