import NIOCore
import RESP
import RedisClient

extension Interpreter {
    /// The Redis command `words` stand for, substitutions filled in.
    func prepare(_ words: ArraySlice<Word>) async throws -> PreparedCommand {
        var expanded: [[UInt8]] = []
        expanded.reserveCapacity(words.count)
        for word in words { expanded.append(try await expand(word)) }
        return PreparedCommand(words: expanded)
    }

    /// Sends `command` to `target` or the current connection and returns its reply;
    /// inside `pipeline { }` it is only collected.
    func sendRedis(_ command: PreparedCommand, to target: String?, capturing: Bool, at location: SourceLocation) async throws -> RESPValue? {
        if collecting != nil {
            collecting!.append((target, command))
            return nil
        }
        let name: String, connection: RedisConnection
        do { (name, connection) = try await self.connection(target, at: location) } catch var error as ShellError {
            // No server to ask whether the word is a Redis command: a word near a redkeep
            // word still gets its suggestion (`replay-untill` with nothing on 6379).
            if let hint = unreachableCommandHint(command.name) { error.message += " (\(hint))" }
            throw error
        }
        let kind = command.kind
        if kind == .subscription || kind == .monitor {
            return try await streamMessages(command, kind: kind, from: connection, at: location)
        }
        let reply: RESPValue
        do {
            // The run's cancellation handler closes the connection (see CommandInFlight).
            try commandInFlight.begin(on: connection)
            defer { commandInFlight.end() }
            let pending = connection.submit(encoded: command.encoded, kind: kind)
            // Output queued so far is written while the server works on the command.
            outputQueue.writeQueued()
            reply = try await connection.reply(to: pending, closingOnCancel: false)
        } catch {
            throw shellError(error, at: location)
        }
        if !reply.isError, let change = SessionChange(command) { noteSession(name, change) }
        noteTransactionState(name, command.transaction, reply: reply)
        let hint = reply.isError ? unknownCommandHint(reply, command.name) : nil
        if let hint, configuration.interactive { say(hint) }
        // In a script an error reply is an error: it stops the run, or under on-error
        // continue is reported (on standard error, with its place) and the run goes on.
        // At the prompt it is a value, shown as redis-cli shows it.
        if let message = reply.errorMessage, !configuration.interactive {
            let error = ShellError(.script, "\(connection.endpoint) answered \(command.name) with an error: \(message)" + (hint.map { " (\($0))" } ?? ""), at: location)
            if !configuration.continueOnError { throw error }
            report(error)
            return nil
        }
        // INFO kept in a variable becomes a map of its fields: ${info.role}.
        if capturing, command.hasName("INFO"), !reply.isError, let text = reply.string {
            return .infoReport(text)
        }
        return reply
    }

    // MARK: - pipeline { }

    /// Collects every command of the block, sends them in one write per connection, and
    /// returns the array of replies (error replies included, in their places).
    func executePipeline(_ statement: Statement) async throws -> RESPValue? {
        guard statement.words.count == 1 else {
            throw ShellError(.usage, "pipeline takes no arguments: pipeline { ... }", at: statement.location)
        }
        guard collecting == nil else {
            throw ShellError(.usage, "pipeline blocks do not nest", at: statement.location)
        }
        collecting = []
        do {
            quiet += 1
            defer { quiet -= 1 }
            for inner in statement.block ?? [] { _ = try await execute(inner) }
        } catch {
            collecting = nil
            throw error
        }
        let batch = collecting!
        collecting = nil
        guard !batch.isEmpty else { return .array([]) }
        // Consecutive commands to the same connection go in one write.
        var replies: [RESPValue] = []
        var start = 0
        while start < batch.count {
            var end = start
            while end < batch.count && batch[end].connection == batch[start].connection { end += 1 }
            let (name, connection) = try await self.connection(batch[start].connection, at: statement.location)
            let commands = batch[start..<end].map(\.command)
            var encoded = ByteBufferAllocator().buffer(capacity: commands.reduce(0) { $0 + $1.encoded.readableBytes })
            for command in commands { encoded.writeImmutableBuffer(command.encoded) }
            do {
                let group = try await connection.pipeline(encoded: encoded, count: commands.count)
                for (command, reply) in zip(commands, group) {
                    noteTransactionState(name, command.transaction, reply: reply)
                    if !reply.isError, let change = SessionChange(command) { noteSession(name, change) }
                }
                replies += group
            } catch {
                throw shellError(error, at: statement.location)
            }
            start = end
        }
        return .array(replies)
    }

    // MARK: - multi { }

    /// MULTI, the block's commands (each answered QUEUED), EXEC; the value is EXEC's reply.
    /// Inside `pipeline { }` the three parts are collected like any command.
    func executeMulti(_ statement: Statement) async throws -> RESPValue? {
        guard statement.words.count == 1 else {
            throw ShellError(.usage, "multi takes no arguments: multi { ... }", at: statement.location)
        }
        let target: String? = nil
        if collecting != nil {
            collecting!.append((target, .multi))
            for inner in statement.block ?? [] { _ = try await execute(inner) }
            collecting!.append((target, .exec))
            return nil
        }
        let (name, connection) = try await self.connection(target, at: statement.location)
        let started = try await connection.reply(to: RESPCommand("MULTI"))
        if let message = started.errorMessage {
            throw ShellError(.script, "\(connection.endpoint) refused MULTI: \(message)", at: statement.location)
        }
        noteTransactionState(name, .begins, reply: started)
        do {
            try await runBlock(statement.block ?? [])
        } catch {
            _ = try? await connection.reply(to: RESPCommand("DISCARD"))
            noteTransactionState(name, .ends, reply: .simple("OK"))
            throw error
        }
        let result = try await connection.reply(to: RESPCommand("EXEC"))
        noteTransactionState(name, .ends, reply: result)
        if result == .null && transactionDepth > 0 { execAborted = true }
        if let message = result.errorMessage, !configuration.interactive && !configuration.continueOnError {
            throw ShellError(.script, "\(connection.endpoint) answered EXEC with an error: \(message)", at: statement.location)
        }
        return result
    }

    // MARK: - transaction --watch KEY... { }

    /// WATCH the keys, run the body (reads may decide; `abort "why"` gives up cleanly), and
    /// when the body's `multi { }` is aborted because a watched key changed, run it all
    /// again, up to --retries times (default 100) or --timeout (default 10s).
    func executeTransaction(_ statement: Statement) async throws -> RESPValue? {
        var keys: [String] = []
        var retries = 100
        var timeout: Duration = .seconds(10)
        var i = 1
        let words = statement.words
        while i < words.count {
            if words[i].bareText == "--retries" || words[i].bareText == "--timeout", i + 1 >= words.count {
                throw ShellError(.usage, "\(words[i].literalText ?? "option") needs a value", at: words[i].location)
            }
            switch words[i].bareText {
            case "--watch":
                while i + 1 < words.count, !(words[i + 1].bareText?.hasPrefix("--") ?? false) {
                    i += 1
                    keys.append(try await expandText(words[i]))
                }
            case "--retries":
                i += 1
                let text = try await expandText(words[i])
                guard let n = Int(text), n >= 0 else { throw ShellError(.usage, "--retries takes a count, not \"\(text)\"", at: words[i].location) }
                retries = n
            case "--timeout":
                i += 1
                let text = try await expandText(words[i])
                guard let d = DurationText.parse(text) else { throw ShellError(.usage, "--timeout takes a duration like 10s, not \"\(text)\"", at: words[i].location) }
                timeout = d
            default:
                throw ShellError(.usage, "unknown option \"\(words[i].literalText ?? "")\": transaction --watch KEY... [--retries N] [--timeout D] { ... }", at: words[i].location)
            }
            i += 1
        }
        guard !keys.isEmpty else {
            throw ShellError(.usage, "transaction needs keys to watch: transaction --watch KEY... { ... }", at: statement.location)
        }
        guard collecting == nil else { throw ShellError(.usage, "a transaction cannot run inside pipeline { }", at: statement.location) }
        let (_, connection) = try await self.connection(nil, at: statement.location)
        let clock = ContinuousClock()
        let start = clock.now
        var attempts = 0
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        while true {
            attempts += 1
            let watched = try await connection.reply(to: RESPCommand([.string("WATCH")] + keys.map { .string($0) }))
            if let message = watched.errorMessage {
                throw ShellError(.script, "\(connection.endpoint) refused WATCH: \(message)", at: statement.location)
            }
            execAborted = false
            var result: RESPValue = .null
            do {
                for inner in statement.block ?? [] {
                    let value = try await execute(inner)
                    if let value { show(value, verbatim: inner.printsVerbatim) }
                    if inner.kind == .keyword(.multi), inner.block != nil { result = value ?? .null }
                }
            } catch let signal as AbortSignal {
                _ = try? await connection.reply(to: RESPCommand("UNWATCH"))
                return .report(["status": .text("aborted"), "reason": .bulk(signal.reason),
                                "attempts": .integer(Int64(attempts))])
            } catch {
                _ = try? await connection.reply(to: RESPCommand("UNWATCH"))
                throw error
            }
            if !execAborted {
                return .report(["status": .text("committed"), "attempts": .integer(Int64(attempts)), "result": result])
            }
            if attempts > retries || clock.now - start >= timeout {
                throw ShellError(.script, "transaction gave up after \(attempts) attempts in \(DurationText.format(clock.now - start)): the watched keys (\(keys.joined(separator: ", "))) kept changing", at: statement.location)
            }
        }
    }
}
