import RedisClient

/// One step of a failover plan, and how it went.
public struct FailoverStep: Sendable {
    /// How far a step got.
    public enum Status: String, Sendable {
        /// Printed by `--dry-run`, or not reached yet.
        case planned
        /// Ran and succeeded.
        case done
        /// Ran and failed (the failover stopped here).
        case failed
        /// Not run, because an earlier step failed.
        case notRun = "not run"
    }

    /// What the step does, with the command it sends (`promote r1: REPLICAOF NO ONE`).
    public var title: String
    /// The server it acts on.
    public var server: String
    /// How it went.
    public var status: Status
    /// How long it took, in microseconds.
    public var micros: Int?
    /// What it found or why it failed.
    public var note: String?

    /// Creates a planned step.
    public init(title: String, server: String, status: Status = .planned, micros: Int? = nil, note: String? = nil) {
        self.title = title
        self.server = server
        self.status = status
        self.micros = micros
        self.note = note
    }
}

/// The state a server was left in: `master`, `replica of 127.0.0.1:7001 (link up)`, or
/// `does not answer`.
public struct ServerOutcome: Sendable {
    /// Its name.
    public var name: String
    /// Its address.
    public var address: String
    /// Its role and master, in words.
    public var state: String
    /// True when it answers as a master.
    public var isMaster: Bool
}

/// A failover: its plan, each step's outcome and timing, and where every server ended up.
public struct FailoverReport: Sendable {
    /// `promote`, `replace` or `sentinel`.
    public var mode: String
    /// Only the plan was made (`--dry-run`).
    public var dryRun: Bool
    /// The master being replaced (name and address).
    public var oldMaster: String
    /// Its address.
    public var oldMasterEndpoint: RedisEndpoint?
    /// The name of the server that is (or would be) the new master.
    public var newMaster: String
    /// Its address.
    public var newMasterEndpoint: RedisEndpoint?
    /// The plan, in order, with outcomes.
    public var steps: [FailoverStep]
    /// What the operator should know: data that may be lost, choices made.
    public var notes: [String]
    /// Replication bytes the new master may lack compared with the old one, when known
    /// (0 when the old master answered and the new one caught up).
    public var lostBytes: Int?
    /// The state every server involved was left in (after a run).
    public var servers: [ServerOutcome]
    /// Microseconds the whole failover took.
    public var totalMicros: Int

    /// Every step ran and succeeded.
    public var completed: Bool { !dryRun && steps.allSatisfy { $0.status == .done } }

    /// The plan and outcomes as plain lines, for error messages.
    public var summary: String {
        var lines = ["failover --\(mode): \(oldMaster) -> \(newMaster)"]
        for (i, step) in steps.enumerated() {
            let time = step.micros.map { String(format: " (%.3f ms)", Double($0) / 1000) } ?? ""
            let note = step.note.map { ": \($0)" } ?? ""
            lines.append("  \(i + 1). [\(step.status.rawValue)] \(step.title) on \(step.server)\(time)\(note)")
        }
        if !servers.isEmpty {
            lines.append("  servers now:")
            for server in servers { lines.append("    \(server.name) \(server.address): \(server.state)") }
        }
        for note in notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
