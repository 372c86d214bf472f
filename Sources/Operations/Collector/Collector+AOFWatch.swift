import Foundation
import RedisClient

extension Collector {
    /// What the collector knows of the server's AOF switch.
    struct AOFWatch: Sendable {
        /// The last moment the AOF was seen on (the start of any off window is after it).
        var lastSeenOn: Double
        /// Set while an off window is not yet recorded: when it began at the earliest.
        var offSince: Double?
        /// How the window was noticed, for the gap's reason.
        var detectedBy = ""
    }

    /// Starts watching the AOF folder for off/on toggles (see ``AOFFolderWatch``); when
    /// inotify is not available, says so once and returns nil: the `aof_enabled` poll alone
    /// then sees only the off windows that span a look.
    func openAOFFolderWatch() -> AOFFolderWatch? {
        switch AOFFolderWatch.open(engine.aofDirectory) {
        case .success(let watch):
            return watch
        case .failure(let why):
            log?("chunk \(name): note: cannot watch \(engine.aofDirectory) for the AOF being switched off and on (\(why.message)); only aof_enabled is looked at, once per interval, so a shorter off window is not seen")
            return nil
        }
    }

    /// Notices the AOF being switched off, and records the window as a `gap` once it is
    /// on again, so restores into it are refused rather than silently missing the writes
    /// made while off (they never reached the AOF, so no chunk holds them).
    ///
    /// Two signals: `aof_enabled` looked at once per interval (sees a long window, warns
    /// while it lasts), and `folder`, which reports every `temp-*.incr` Redis created since
    /// the last pass, which it does only when the AOF is switched on (sees any window, however
    /// short). The window runs from the last moment the AOF was seen on before the signal
    /// (for the folder signal: the look of the previous pass, which the events queued since
    /// follow) to the moment the AOF is on again and its rewrite has finished, so the base
    /// Redis writes when the AOF comes back (which serves the times after it) is not older
    /// than the gap's end: wider than the real window, never narrower.
    func watchAOF(folder: AOFFolderWatch?) async {
        let now = Date().timeIntervalSince1970
        var state: (enabled: Bool, rewriting: Bool)?
        do {
            let info = try await redis().info("persistence")
            // While a (re)started server loads its data it reports aof_enabled:0 (Redis
            // 7.0 sets its AOF state only after loading): a crash and restart is no switch.
            if let enabled = info.int("aof_enabled"), info.int("loading") != 1 {
                state = (enabled == 1, info.int("aof_rewrite_in_progress") == 1 || info.int("aof_rewrite_scheduled") == 1)
            }
        } catch {}
        // After the look: a toggle whose events are read now began after the previous look.
        let seen = folder?.drain() ?? AOFFolderWatch.Seen()
        let directory = engine.aofDirectory
        enum Change { case none, turnedOff, turnedOn(since: Double, detectedBy: String) }
        let change: Change = shared.withLock { s in
            if !seen.toggles.isEmpty || seen.overflowed {
                if s.aofWatch.offSince == nil {
                    s.aofWatch.offSince = s.aofWatch.lastSeenOn
                    s.aofWatch.detectedBy = seen.toggles.isEmpty
                        ? "the inotify queue of \(directory) overflowed, so a switch may have been missed"
                        : "Redis created \(directory)/\(seen.toggles[0]), which it does only when the AOF is switched on"
                }
            }
            guard let state else { return .none }  // nothing more is known while the server cannot be asked
            switch (state.enabled, s.aofWatch.offSince) {
            case (true, let since?):
                s.status.warnings.removeAll { $0.hasPrefix("appendonly is off") }
                // Until the rewrite is done, the base that serves the times after the window is not there.
                guard !state.rewriting else { return .none }
                let detectedBy = s.aofWatch.detectedBy
                s.aofWatch = AOFWatch(lastSeenOn: now)
                return .turnedOn(since: since, detectedBy: detectedBy)
            case (true, nil):
                s.aofWatch.lastSeenOn = now
                return .none
            case (false, let since):
                guard !s.status.warnings.contains(where: { $0.hasPrefix("appendonly is off") }) else { return .none }
                if since == nil {
                    s.aofWatch.offSince = s.aofWatch.lastSeenOn
                    s.aofWatch.detectedBy = "its aof_enabled was seen 0 at \(TimeFormat.text(now))"
                }
                s.status.warnings.append("appendonly is off on \(s.status.source) (seen at \(TimeFormat.text(now))): writes are not archived until it is on again")
                return .turnedOff
            }
        }
        let from: Double
        let detectedBy: String
        switch change {
        case .none: return
        case .turnedOff:
            log?("chunk \(name): warning: appendonly is off on \(source.endpoint): writes made now cannot be archived; the window will be recorded as a gap")
            return
        case .turnedOn(let since, let how):
            from = since
            detectedBy = how
        }
        let gap = ArchiveRecord.Gap(stream: nil, offset: nil, from: Self.wholeSecond(from), to: now,
                                    reason: "appendonly was switched off and on on \(source.endpoint) (\(detectedBy)): writes in this window never reached the AOF")
        let engine = self.engine
        do { try await io { () throws(CollectorError) in try engine.append(.gap(gap)) } } catch { noteError(error) }
    }

    /// At the end of a run with an off window not yet recorded (the AOF still off, or its
    /// rewrite not finished): the window so far is a gap (a later run cannot know when it began).
    func recordAOFStillOff() async {
        let watch = shared.withLock { $0.aofWatch }
        guard let since = watch.offSince else { return }
        let gap = ArchiveRecord.Gap(stream: nil, offset: nil, from: Self.wholeSecond(since), to: Date().timeIntervalSince1970,
                                    reason: "appendonly was switched off on \(source.endpoint) (\(watch.detectedBy)) and not yet back with its rewrite done when the collector stopped: writes in this window never reached the AOF")
        let engine = self.engine
        do { try await io { () throws(CollectorError) in try engine.append(.gap(gap)) } } catch { noteError(error) }
    }

    /// The start of an off window, down to its whole second: the AOF's `#TS` annotations
    /// are whole seconds, so a write made later in the second the AOF was last seen on is
    /// stamped with that second, and a restore to it must be refused too.
    static func wholeSecond(_ time: Double) -> Double { time.rounded(.down) }
}
