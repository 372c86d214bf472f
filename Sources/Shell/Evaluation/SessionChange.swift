import RESP
import RedisClient

/// A command typed by the user that changes the connection's session: the database, who
/// is authenticated, the protocol, the client's name. The shell notes it once the server
/// accepts it, so that a reconnect (after Ctrl-C, a timeout, a server restart) sets the
/// same session up again instead of coming back on database 0 without AUTH.
enum SessionChange {
    case select(database: Int)
    case auth(user: String?, password: RedisSecret)
    case hello(version: Int?, user: String?, password: RedisSecret?, name: String?)
    case clientName(String)
    /// RESET: database 0, RESP2, the default user, no name.
    case reset

    /// The change `command` makes if the server accepts it; nil for every other command
    /// (one comparison for most names: this runs for every statement).
    init?(_ command: PreparedCommand) {
        let name = command.withName { name -> StaticString? in
            guard let first = name.first else { return nil }
            switch first | 0x20 {
            case UInt8(ascii: "s"): return CommandName.matches(name, "SELECT") ? "SELECT" : nil
            case UInt8(ascii: "a"): return CommandName.matches(name, "AUTH") ? "AUTH" : nil
            case UInt8(ascii: "h"): return CommandName.matches(name, "HELLO") ? "HELLO" : nil
            case UInt8(ascii: "c"): return CommandName.matches(name, "CLIENT") ? "CLIENT" : nil
            case UInt8(ascii: "r"): return CommandName.matches(name, "RESET") ? "RESET" : nil
            default: return nil
            }
        }
        guard let name else { return nil }
        let words = command.arguments
        switch name.description {
        case "SELECT":
            guard words.count == 1, let n = Int(words[0]), n >= 0 else { return nil }
            self = .select(database: n)
        case "AUTH":
            switch words.count {
            case 1: self = .auth(user: nil, password: RedisSecret(words[0]))
            case 2: self = .auth(user: words[0], password: RedisSecret(words[1]))
            default: return nil
            }
        case "HELLO":
            var version: Int?
            var user: String?
            var password: RedisSecret?
            var clientName: String?
            var i = 0
            if let first = words.first, let n = Int(first) {
                version = n
                i = 1
            }
            while i < words.count {
                switch words[i].uppercased() {
                case "AUTH" where i + 2 < words.count:
                    user = words[i + 1]
                    password = RedisSecret(words[i + 2])
                    i += 3
                case "SETNAME" where i + 1 < words.count:
                    clientName = words[i + 1]
                    i += 2
                default:
                    return nil
                }
            }
            self = .hello(version: version, user: user, password: password, name: clientName)
        case "CLIENT":
            guard words.count == 2, words[0].uppercased() == "SETNAME" else { return nil }
            self = .clientName(words[1])
        case "RESET":
            self = .reset
        default:
            return nil
        }
    }

    /// Makes `configuration` set up the session this change leaves.
    func apply(to configuration: inout RedisConnectionConfiguration) {
        switch self {
        case .select(let database):
            configuration.database = database
        case .auth(let user, let password):
            configuration.username = user
            configuration.password = password
        case .hello(let version, let user, let password, let name):
            if let version { configuration.protocolVersion = version }
            if let password {
                configuration.username = user
                configuration.password = password
            }
            if let name { configuration.clientName = name }
        case .clientName(let name):
            configuration.clientName = name.isEmpty ? nil : name
        case .reset:
            configuration.database = 0
            configuration.protocolVersion = 2
            configuration.username = nil
            configuration.password = nil
            configuration.clientName = nil
        }
    }
}

extension RedisConnectionConfiguration {
    /// What a reconnect sets up besides the address, for messages: `database 3, AUTH as
    /// alice, RESP3, name "worker"`. Never the password.
    var sessionSummary: String {
        var parts: [String] = []
        if database != 0 { parts.append("database \(database)") }
        if password != nil { parts.append("AUTH as \(username ?? "default")") }
        if protocolVersion == 3 { parts.append("RESP3") }
        if let clientName { parts.append("name \"\(clientName)\"") }
        return parts.isEmpty ? "database 0" : parts.joined(separator: ", ")
    }
}
