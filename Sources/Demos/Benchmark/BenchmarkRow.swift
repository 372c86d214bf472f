/// One measured line of a benchmark: a mode of update-token, or a command test.
public struct BenchmarkRow: Sendable, Equatable {
    /// `update-token`, `commands`, or `update-token (redis-py)` for the reference.
    public var benchmark: String
    /// The mode (plain, pipeline, multi) or the test (set, get...).
    public var label: String
    /// Concurrent clients.
    public var clients: Int
    /// Calls made (update_token calls, or requests).
    public var calls: Int
    /// Redis commands sent for them (MULTI and EXEC included).
    public var commands: Int
    /// Wall time, in seconds.
    public var seconds: Double
    /// Latency percentiles of one call, in microseconds (nil when not measured).
    public var p50: Double?
    public var p99: Double?
    public var p999: Double?
    /// The reference tool's figure for the same test (redis-benchmark requests/s), if run.
    public var reference: Double?

    public init(benchmark: String, label: String, clients: Int, calls: Int, commands: Int, seconds: Double,
                p50: Double? = nil, p99: Double? = nil, p999: Double? = nil, reference: Double? = nil) {
        self.benchmark = benchmark
        self.label = label
        self.clients = clients
        self.calls = calls
        self.commands = commands
        self.seconds = seconds
        self.p50 = p50
        self.p99 = p99
        self.p999 = p999
        self.reference = reference
    }

    /// Calls per second.
    public var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }
    /// Commands per second.
    public var commandsPerSecond: Double { seconds > 0 ? Double(commands) / seconds : 0 }
    /// This row's calls/s as a share of the reference's (nil without a reference).
    public var share: Double? { reference.flatMap { $0 > 0 ? callsPerSecond / $0 : nil } }
}
