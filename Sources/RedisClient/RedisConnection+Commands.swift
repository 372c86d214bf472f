import RESP

extension RedisConnection {
    /// `PING`; returns the server's answer (`PONG`).
    @discardableResult
    public func ping() async throws(RedisClientError) -> String {
        try await send(RESPCommand("PING")).string ?? ""
    }

    /// `INFO [section]`, parsed into typed sections and fields.
    public func info(_ section: String? = nil) async throws(RedisClientError) -> RedisInfo {
        let command = section.map { RESPCommand("INFO", $0) } ?? RESPCommand("INFO")
        let reply = try await send(command)
        guard let text = reply.string else { throw RedisClientError.unexpected(endpoint, "INFO", reply) }
        return RedisInfo(parsing: text)
    }

    /// `CONFIG GET pattern` as a dictionary (RESP2 flat arrays and RESP3 maps alike).
    public func configGet(_ pattern: String) async throws(RedisClientError) -> [String: String] {
        let reply = try await send(RESPCommand("CONFIG", "GET", pattern))
        var result: [String: String] = [:]
        switch reply {
        case .map(let pairs):
            for pair in pairs { result[pair.key.string ?? ""] = pair.value.string ?? "" }
        case .array(let flat) where flat.count % 2 == 0:
            for i in stride(from: 0, to: flat.count, by: 2) { result[flat[i].string ?? ""] = flat[i + 1].string ?? "" }
        default:
            throw RedisClientError.unexpected(endpoint, "CONFIG GET", reply)
        }
        return result
    }

    /// `CONFIG SET name value`.
    public func configSet(_ name: String, _ value: String) async throws(RedisClientError) {
        _ = try await send(RESPCommand("CONFIG", "SET", name, value))
    }
}
