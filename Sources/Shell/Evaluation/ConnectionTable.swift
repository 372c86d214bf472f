import RedisClient

/// The session's named connections and which one is current.
struct ConnectionTable {
    struct Entry {
        var name: String
        var configuration: RedisConnectionConfiguration
        /// Nil until first used, and after the connection broke (the next use reconnects).
        var connection: RedisConnection?
        /// Inside MULTI (typed by hand), for the prompt's `(TX)`.
        var inTransaction = false
        /// The Lab server it belongs to, if `start` made it.
        var localServer: String?
    }

    private(set) var entries: [String: Entry] = [:]
    private(set) var order: [String] = []
    var current: String? {
        didSet { currentConnection = current.flatMap { entries[$0]?.connection } }
    }
    /// The current entry's connection, kept beside the table so that a statement reads
    /// it without hashing the name and copying the entry (configuration included).
    private(set) var currentConnection: RedisConnection?

    subscript(_ name: String) -> Entry? {
        get { entries[name] }
        set {
            if entries[name] == nil, newValue != nil { order.append(name) }
            if newValue == nil { order.removeAll { $0 == name } }
            entries[name] = newValue
            if name == current { currentConnection = newValue?.connection }
        }
    }

    var names: [String] { order }

    func closeAll() async {
        for entry in entries.values { await entry.connection?.close() }
    }
}
