import RESP
import RedisClient

extension Interpreter {
    /// The connection `name` (the current one when nil), connecting or reconnecting if
    /// it is not open.
    func connection(_ name: String?, at location: SourceLocation?) async throws -> (String, RedisConnection) {
        if name == nil, let open = connections.currentConnection, open.isOpen { return (connections.current!, open) }
        if name == nil, connections.current == nil, let address = configuration.defaultAddress {
            return try await connectToDefault(address, at: location)
        }
        guard let name = name ?? connections.current else {
            throw ShellError(.usage, "no connection: use connect NAME ADDRESS, or start NAME for a local server", at: location)
        }
        guard var entry = connections[name] else {
            throw ShellError(.usage, "unknown connection \(name) (\(knownConnections))", at: location)
        }
        if let open = entry.connection, open.isOpen { return (name, open) }
        let connection: RedisConnection
        do {
            // The configuration carries the session typed since (SELECT, AUTH, HELLO,
            // CLIENT SETNAME): a reconnect sets it all up again or fails.
            connection = try await RedisConnection.connect(entry.configuration, group: home.loop)
        } catch {
            guard entry.connection != nil else { throw ShellError(.connection, error.message, at: location) }
            throw ShellError(.connection, "lost the connection \(name) and could not set up its session again "
                             + "(\(entry.configuration.sessionSummary)): \(error.message)", at: location)
        }
        entry.connection = connection
        entry.inTransaction = false
        connections[name] = entry
        return (name, connection)
    }

    var knownConnections: String {
        connections.names.isEmpty ? "none yet" : "known: " + connections.names.joined(separator: ", ")
    }

    /// Opens a connection called `name` and makes it current; replaces one of that name.
    @discardableResult
    func openConnection(_ name: String, _ configuration: RedisConnectionConfiguration, localServer: String? = nil,
                        at location: SourceLocation?) async throws -> RESPValue {
        if let old = connections[name]?.connection { await old.close() }
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration, group: home.loop)
        } catch {
            throw ShellError(.connection, error.message, at: location)
        }
        connections[name] = ConnectionTable.Entry(name: name, configuration: configuration, connection: connection,
                                                  localServer: localServer)
        connections.current = name
        return connectionReport(name)
    }

    /// Makes `name` the current connection.
    func use(_ name: String, at location: SourceLocation?) throws {
        guard connections[name] != nil else {
            throw ShellError(.usage, "unknown connection \(name) (\(knownConnections))", at: location)
        }
        connections.current = name
    }

    /// Closes and forgets `name`.
    func disconnect(_ name: String, at location: SourceLocation?) async throws {
        guard let entry = connections[name] else {
            throw ShellError(.usage, "unknown connection \(name) (\(knownConnections))", at: location)
        }
        await entry.connection?.close()
        connections[name] = nil
        if connections.current == name { connections.current = connections.names.last }
    }

    /// One row per connection: name, address, database, current, open.
    func connectionsReport() -> RESPValue {
        .array(connections.names.map { connectionReport($0) })
    }

    func connectionReport(_ name: String) -> RESPValue {
        guard let entry = connections[name] else { return .null }
        var fields: [(String, RESPValue)] = [
            ("name", .text(name)),
            ("address", .text(entry.configuration.endpoint.description)),
            ("db", .integer(Int64(entry.configuration.database))),
            ("current", .boolean(connections.current == name)),
            ("open", .boolean(entry.connection?.isOpen ?? false)),
        ]
        if let server = entry.localServer { fields.append(("local", .text(server))) }
        return .report(fields)
    }

    /// Notes a change of session the server accepted (SELECT, AUTH, HELLO, CLIENT
    /// SETNAME, RESET), for the prompt's `[db]` and for reconnecting. The password stays
    /// in memory, in a ``RedisSecret``.
    func noteSession(_ name: String, _ change: SessionChange) {
        // Inside MULTI the server only queues the command (QUEUED): nothing changed yet.
        guard var entry = connections[name], !entry.inTransaction else { return }
        change.apply(to: &entry.configuration)
        connections[name] = entry
    }

    /// Notes MULTI/EXEC/DISCARD typed by hand, for the prompt's `(TX)`.
    func noteTransactionState(_ name: String, _ effect: PreparedCommand.TransactionEffect, reply: RESPValue) {
        let inTransaction: Bool
        switch effect {
        case .none: return
        case .begins:
            guard !reply.isError else { return }
            inTransaction = true
        case .ends:
            inTransaction = false
        }
        guard var entry = connections[name] else { return }
        entry.inTransaction = inTransaction
        connections[name] = entry
    }

    /// The prompt: `name host:port> `, with `(TX)` inside MULTI; `redkeep> ` with no connection.
    public var prompt: String {
        guard let name = connections.current, let entry = connections[name] else { return "redkeep> " }
        let tx = entry.inTransaction ? "(TX)" : ""
        let db = entry.configuration.database == 0 ? "" : "[\(entry.configuration.database)]"
        return "\(name) \(entry.configuration.endpoint)\(db)\(tx)> "
    }
}
