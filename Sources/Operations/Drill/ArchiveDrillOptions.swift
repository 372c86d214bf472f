import RedisClient

/// Where a drill restores: never the live server.
public enum DrillDestination: Sendable {
    /// A new local server of `lab` under `name`, started on the restored AOF folder;
    /// stopped after the comparison unless `keep`.
    case localServer(name: String, lab: Lab, keep: Bool)
    /// A server the operator named (`--into`); `scratch` may run a temporary server for
    /// an RDB base. A server holding keys is refused unless `flush`.
    case connection(RedisConnectionConfiguration, name: String, scratch: Lab?, flush: Bool)
}

/// What a restore drill does, every number bounded.
public struct ArchiveDrillOptions: Sendable {
    /// The archive that protects the live server.
    public var archive: any ArchiveStore
    /// The live server: marked, paused for the capture, never written otherwise.
    public var live: RedisConnectionConfiguration
    /// Where the restore goes.
    public var destination: DrillDestination
    /// The longest `CLIENT PAUSE WRITE` (``pauseRange``); also the pause's own timeout,
    /// so the server resumes writes by itself if this process dies mid-capture.
    public var maxPause: Duration = .seconds(2)
    /// The whole drill's time limit (``timeoutRange``): marking, waiting for the archive,
    /// restoring and comparing.
    public var timeout: Duration = .seconds(600)
    /// How many differing keys the report lists (``showRange``); all are counted.
    public var show: Int = 10
    /// How far apart two expiry times may be and still count as the same (``toleranceRange``):
    /// both sides are read as remaining milliseconds and turned into absolute times.
    public var expiryTolerance: Duration = .seconds(2)
    /// How often the archive is read while waiting for the mark.
    public var pollInterval: Duration = .milliseconds(100)

    /// Bounds of ``maxPause``.
    public static let pauseRange: ClosedRange<Duration> = .milliseconds(10) ... .seconds(60)
    /// Bounds of ``timeout``.
    public static let timeoutRange: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)
    /// Bounds of ``show``.
    public static let showRange: ClosedRange<Int> = 1...1000
    /// Bounds of ``expiryTolerance``.
    public static let toleranceRange: ClosedRange<Duration> = .zero ... .seconds(3600)

    /// Creates options with the defaults: a 2 s pause at most, 10 minutes in all, 10 keys listed.
    public init(archive: any ArchiveStore, live: RedisConnectionConfiguration, destination: DrillDestination) {
        self.archive = archive
        self.live = live
        self.destination = destination
    }

    /// Refuses a value out of its bounds, naming the option.
    func validate() throws(ArchiveDrillError) {
        func refuse(_ what: String) -> ArchiveDrillError { ArchiveDrillError(.invalidRequest, what) }
        guard Self.pauseRange.contains(maxPause) else { throw refuse("the longest pause must be 10ms to 60s, not \(maxPause)") }
        guard Self.timeoutRange.contains(timeout) else { throw refuse("the drill's timeout must be 1s to 24h, not \(timeout)") }
        guard Self.showRange.contains(show) else { throw refuse("the number of differing keys to list must be 1 to 1000, not \(show)") }
        guard Self.toleranceRange.contains(expiryTolerance) else { throw refuse("the expiry tolerance must be 0 to 1h, not \(expiryTolerance)") }
        guard (Duration.milliseconds(1) ... .seconds(10)).contains(pollInterval) else { throw refuse("the poll interval must be 1ms to 10s, not \(pollInterval)") }
    }
}
