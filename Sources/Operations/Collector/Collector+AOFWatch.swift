import Foundation
import RedisClient

extension Collector {
    /// What the collector last saw of the server's `aof_enabled`.
    struct AOFWatch: Sendable {
        /// The last moment the AOF was seen on (the start of any off window is after it).
        var lastSeenOn: Double
        /// Set while the AOF is seen off: when the window began at the earliest.
        var offSince: Double?
    }

    /// Looks at the server's `aof_enabled` once per interval. Writes made while
    /// `appendonly` is off never reach the AOF, so no chunk can hold them: when the AOF is
    /// seen on again, the window is recorded as a `gap` and restores into it are refused,
    /// rather than silently missing those writes. The gap runs from the last moment the
    /// AOF was seen on to the moment it is seen on again (wider than the real window, never
    /// narrower). Nothing is recorded while the server cannot be asked.
    func watchAOF() async {
        let now = Date().timeIntervalSince1970
        let enabled: Bool
        do {
            let info = try await redis().info("persistence")
            guard let value = info.int("aof_enabled") else { return }
            enabled = value == 1
        } catch {
            return
        }
        enum Change { case none, turnedOff, turnedOn(since: Double) }
        let change: Change = shared.withLock { s in
            switch (enabled, s.aofWatch.offSince) {
            case (true, let since?):
                s.aofWatch = AOFWatch(lastSeenOn: now, offSince: nil)
                s.status.warnings.removeAll { $0.hasPrefix("appendonly is off") }
                return .turnedOn(since: since)
            case (true, nil):
                s.aofWatch.lastSeenOn = now
                return .none
            case (false, nil):
                s.aofWatch.offSince = s.aofWatch.lastSeenOn
                s.status.warnings.append("appendonly is off on \(s.status.source) (seen at \(TimeFormat.text(now))): writes are not archived until it is on again")
                return .turnedOff
            case (false, _?):
                return .none
            }
        }
        let from: Double
        switch change {
        case .none: return
        case .turnedOff:
            log?("chunk \(name): warning: appendonly is off on \(source.endpoint): writes made now cannot be archived; the window will be recorded as a gap")
            return
        case .turnedOn(let since): from = since
        }
        let gap = ArchiveRecord.Gap(stream: nil, offset: nil, from: from, to: now,
                                    reason: "appendonly was switched off on \(source.endpoint): writes in this window never reached the AOF")
        let engine = self.engine
        do { try await io { () throws(CollectorError) in try engine.append(.gap(gap)) } } catch { noteError(error) }
    }

    /// At the end of a run with the AOF still off: the window so far is a gap (a later
    /// run cannot know when it began).
    func recordAOFStillOff() async {
        guard let since = shared.withLock({ $0.aofWatch.offSince }) else { return }
        let gap = ArchiveRecord.Gap(stream: nil, offset: nil, from: since, to: Date().timeIntervalSince1970,
                                    reason: "appendonly was off on \(source.endpoint) when the collector stopped: writes in this window never reached the AOF")
        let engine = self.engine
        do { try await io { () throws(CollectorError) in try engine.append(.gap(gap)) } } catch { noteError(error) }
    }
}
