import Foundation
import RESP
import RedisClient

/// A restore drill (`archive drill`): marks the live server, captures its data set at
/// the mark while `CLIENT PAUSE WRITE` holds writes, waits for the collector to archive
/// the mark, restores the archive to the mark into a scratch server, and compares the
/// two key by key. `archive verify` proves the checksums; a drill proves the archive
/// restores to what the server held.
public enum ArchiveDrill {
    /// Runs a drill. `markName` defaults to `drill-<unix ms>`.
    ///
    /// Nothing is paused before every check has passed: the options' bounds, a live
    /// server with `CLIENT PAUSE WRITE` (Redis 6.2), an archive that protects it, a scratch
    /// server that is not it, a data set small enough to read within the pause. Writes are
    /// held at most `maxPause` (the pause's own timeout) and resumed on every path.
    public static func run(_ options: ArchiveDrillOptions, markName: String? = nil) async throws(ArchiveDrillError) -> ArchiveDrillReport {
        try options.validate()
        let started = ContinuousClock.now
        // One deadline for the whole drill: every step gets what is left of it.
        let deadline = CommandDeadline(drill: options.timeout)
        let name = markName ?? "drill-\(Int64(Date().timeIntervalSince1970 * 1000))"
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ArchiveDrillError(.invalidRequest, "a mark name is printable text without blanks, not \"\(name.prefix(80))\"")
        }
        let markKey = ArchiveRecord.Mark.key(for: name)

        let live = try await step("connecting to the live server (\(options.live.endpoint))", within: deadline) { () async throws(ArchiveDrillError) in
            try await connect(options.live, "the live server")
        }
        defer { Task { await live.close() } }
        let index = try await step("reading the index of the archive \(options.archive.location)", within: deadline) { () async throws(ArchiveDrillError) in
            do throws(ArchiveError) { return try await ArchiveIO.run { () throws(ArchiveError) in try ArchiveIndex.read(options.archive) } } catch {
                throw ArchiveDrillError(.archive, "cannot read the archive \(options.archive.location): \(error.message)", underlying: error)
            }
        }
        let reader = KeySpaceReader(connection: live)
        try await step("checking the live server \(live.endpoint), the archive and the scratch server", within: deadline) { () async throws(ArchiveDrillError) -> Void in
            try await requireSource(index.descriptor, live: live, archive: options.archive.location)
            try await refuseLiveAsScratch(options.destination, live: live)
            try await requirePauseWrite(live)
            try await refuseTooLarge(reader, maxPause: options.maxPause)
        }

        var locator = MarkLocator(store: options.archive, key: markKey, before: index)
        let capture = try await step("marking and capturing the live server \(live.endpoint)", within: deadline) { () async throws(ArchiveDrillError) in
            try await ArchiveDrill.capture(reader, markKey: markKey, maxPause: options.maxPause, configuration: options.live)
        }
        var report = ArchiveDrillReport(
            verdict: .inconclusive, markName: name, markKey: markKey, markedAt: capture.markedAt, writesHeld: capture.held,
            keysAtMark: capture.keys.count, keysRestored: 0, keysCompared: 0, expiredSinceMark: 0, differenceCount: 0,
            differences: [], waitedForArchive: 0, duration: 0)
        guard capture.complete else {
            report.inconclusiveReason = "reading the \(capture.keys.count)+ keys took longer than the longest pause (\(options.maxPause)): writes may have resumed during the read, so it is not the data set at the mark. Nothing was restored; raise --max-pause"
            report.duration = seconds(ContinuousClock.now - started)
            return report
        }

        let waitStarted = ContinuousClock.now
        let position = try await waitForMark(&locator, archive: options.archive.location, until: deadline, every: options.pollInterval)
        report.waitedForArchive = seconds(ContinuousClock.now - waitStarted)
        report.markPosition = position.description

        let target = ReplayTarget.offset(generation: position.generation, stream: position.stream, bytes: position.end)
        let (restore, scratch) = try await restore(options, target: target, until: deadline)
        report.restore = restore
        report.destination = restore.destination
        // The scratch server is stopped (unless kept) on every path, and waited for.
        let compared: Result<DrillComparison, ArchiveDrillError>
        do throws(ArchiveDrillError) {
            compared = .success(try await compare(capture.keys, restoredAt: scratch, options: options, until: deadline, report: &report))
        } catch {
            compared = .failure(error)
        }
        if case .localServer(let name, let lab, false) = options.destination { try? await lab.stop(name) }
        let comparison = try compared.get()
        report.keysCompared = comparison.compared
        report.expiredSinceMark = comparison.expiredSinceMark
        report.differenceCount = comparison.differences.count
        report.differences = Array(comparison.differences.prefix(options.show))
        report.verdict = comparison.differences.isEmpty ? .equal : .different
        report.duration = seconds(ContinuousClock.now - started)
        return report
    }

    /// Reads the restored server and compares it with the capture.
    static func compare(_ atMark: [DrillKey: KeyFingerprint], restoredAt scratch: RedisConnectionConfiguration, options: ArchiveDrillOptions,
                        until deadline: CommandDeadline, report: inout ArchiveDrillReport) async throws(ArchiveDrillError) -> DrillComparison {
        let restored = try await step("connecting to the scratch server (\(scratch.endpoint))", within: deadline) { () async throws(ArchiveDrillError) in
            try await connect(scratch, "the scratch server")
        }
        defer { Task { await restored.close() } }
        var back = KeySpaceReader(connection: restored)
        back.deadline = deadline.instant
        let reader = back
        let doing = "reading the restored keys of the scratch server \(restored.endpoint)"
        let read = try await step(doing, within: deadline) { () async throws(ArchiveDrillError) in
            do throws(RedisClientError) { return try await reader.read() } catch {
                throw ArchiveDrillError(.scratch, "cannot read the keys of the scratch server \(restored.endpoint) after the restore: \(error.message)", underlying: error)
            }
        }
        guard read.complete else { throw timedOut(deadline.timeout, doing) }
        report.keysRestored = read.keys.count
        return DrillComparison(live: atMark, restored: read.keys, now: Int64(Date().timeIntervalSince1970 * 1000),
                               toleranceMs: Int64(seconds(options.expiryTolerance) * 1000))
    }

    /// Polls the archive until the mark's write is archived, or the deadline.
    static func waitForMark(_ locator: inout MarkLocator, archive: String, until deadline: CommandDeadline,
                            every interval: Duration) async throws(ArchiveDrillError) -> MarkLocator.Position {
        while true {
            let current = locator
            let (position, next): (MarkLocator.Position?, MarkLocator)
            do {
                (position, next) = try await ArchiveIO.run { () throws(ArchiveError) in
                    var copy = current
                    return (try copy.poll(), copy)
                }
            } catch {
                throw ArchiveDrillError(.archive, "cannot read the archive \(archive) while waiting for the mark \(locator.key): \(error.message)", underlying: error)
            }
            locator = next
            if let position { return position }
            if Task.isCancelled {
                throw ArchiveDrillError(.markNotArchived, "the drill was interrupted while waiting for the mark \(locator.key) to reach the archive \(archive)")
            }
            guard ContinuousClock.now + interval < deadline.instant, (try? await Task.sleep(for: interval)) != nil else {
                throw ArchiveDrillError(.markNotArchived, "the drill ran out of its time (\(deadline.timeout)) while waiting for the mark \(locator.key) to reach the archive \(archive): it was written on the live server but not archived (\(locator.searched.count) chunks searched); is a collector running for this archive? (chunk status)")
            }
        }
    }

    /// Restores into the destination, cancelled at the deadline. Returns the report and
    /// how to reach the restored server.
    static func restore(_ options: ArchiveDrillOptions, target: ReplayTarget,
                        until deadline: CommandDeadline) async throws(ArchiveDrillError) -> (RestoreReport, RedisConnectionConfiguration) {
        let destination: RestoreDestination
        var restoreOptions = RestoreOptions()
        let into: RedisConnection?
        switch options.destination {
        case .localServer(let name, let lab, _):
            destination = .localServer(name: name, lab: lab, port: nil)
            into = nil
        case .connection(let configuration, let name, let scratch, let flush):
            let connection = try await step("connecting to the scratch server \(name) (\(configuration.endpoint))", within: deadline) { () async throws(ArchiveDrillError) in
                try await connect(configuration, "the scratch server \(name)")
            }
            destination = .connection(connection, name: name, scratch: scratch)
            restoreOptions.flush = flush
            into = connection
        }
        defer { if let into { Task { await into.close() } } }
        let archive = options.archive
        let work = Task { () async -> Result<RestoreReport, RestoreError> in
            do throws(RestoreError) { return .success(try await Restore.run(archive: archive, target: target, destination: destination, options: restoreOptions)) }
            catch { return .failure(error) }
        }
        let timer = Task { if (try? await Task.sleep(until: deadline.instant)) != nil { work.cancel() } }
        let result = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        timer.cancel()
        let report: RestoreReport
        switch result {
        case .failure(let error):
            throw ArchiveDrillError(.restore, "the restore to the mark (\(target)) failed: \(error.message)", underlying: error)
        case .success(let r):
            report = r
        }
        if report.outcome.interrupted { throw timedOut(deadline.timeout, "restoring the archive to the mark (\(target))") }
        switch options.destination {
        case .connection(let configuration, _, _, _):
            return (report, configuration)
        case .localServer(let name, let lab, _):
            guard let server = await lab.server(name) else {
                throw ArchiveDrillError(.scratch, "the restore reported starting \(name), but the lab has no such server")
            }
            return (report, server.connectionConfiguration)
        }
    }

    /// Refuses an archive that does not protect the live server (its run_id, replication
    /// id or address), since its collector could never archive the mark.
    static func requireSource(_ descriptor: ArchiveDescriptor, live: RedisConnection, archive: String) async throws(ArchiveDrillError) {
        do {
            try await Restore.refuseSource(descriptor, target: live, name: "live")
        } catch where error.kind == .refusedTarget {
            return
        } catch {
            throw ArchiveDrillError(.live, error.message, underlying: error)
        }
        throw ArchiveDrillError(.archive, "the archive \(archive) protects \(descriptor.source), not the live server \(live.endpoint) (neither its run_id, its replication id nor its address match): a mark written there would never reach this archive")
    }

    /// Refuses a destination that is the live server itself (the same run_id), before
    /// anything is paused.
    static func refuseLiveAsScratch(_ destination: DrillDestination, live: RedisConnection) async throws(ArchiveDrillError) {
        guard case .connection(let configuration, let name, _, _) = destination else { return }
        let scratch = try await connect(configuration, "the scratch server \(name)")
        defer { Task { await scratch.close() } }
        do {
            let liveId = try await live.info("server").string("run_id")
            let scratchId = try await scratch.info("server").string("run_id")
            guard liveId == nil || liveId != scratchId else {
                throw ArchiveDrillError(.invalidRequest, "the scratch server \(name) (\(scratch.endpoint)) is the live server (run_id \(liveId!)): a drill restores into a separate server; nothing was paused")
            }
        } catch let error as ArchiveDrillError {
            throw error
        } catch {
            throw ArchiveDrillError(.live, "cannot read INFO server to tell the scratch server \(name) from the live server: \(error)", underlying: error)
        }
    }

    static func connect(_ configuration: RedisConnectionConfiguration, _ what: String) async throws(ArchiveDrillError) -> RedisConnection {
        do { return try await RedisConnection.connect(configuration) } catch {
            throw ArchiveDrillError(what == "the live server" ? .live : .scratch, "cannot connect to \(what) (\(configuration.endpoint)): \(error.message)", underlying: error)
        }
    }

    static func timedOut(_ timeout: Duration, _ doing: String) -> ArchiveDrillError {
        ArchiveDrillError(.timeout, "the drill ran out of its time (\(timeout)) while \(doing); raise --timeout")
    }
}
