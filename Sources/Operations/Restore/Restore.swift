import Foundation
import RESP
import RedisClient

/// Where a restore writes.
public enum RestoreDestination: Sendable {
    /// Replay into a server through this connection (`--into NAME`). `scratch` is where
    /// a temporary server may run to read an RDB base (nil: none can run here).
    case connection(RedisConnection, name: String, scratch: Lab?)
    /// Like ``connection(_:name:scratch:)``, but the Lab for a temporary server is made
    /// only when a key of an RDB base needs one (rarely): making a Lab looks for
    /// redis-server and runs its `--version`, tens of milliseconds every restore would
    /// otherwise wait for before its first write.
    case connectionMakingScratch(RedisConnection, name: String, scratch: @Sendable () async -> Lab?)
    /// Write a Redis 7 AOF folder that redis-server loads natively (`--write-aof DIR`).
    case aofFolder(String)
    /// Write the AOF folder of a new local server and start it (`--start NAME`).
    case localServer(name: String, lab: Lab, port: Int?)
    /// Read and check everything, write nothing.
    case dryRun
}

/// How a restore into a connection behaves.
public struct RestoreOptions: Sendable, Hashable {
    /// Commands in flight at most (1...``maxWindow``).
    public var window: Int
    /// Empty a target that holds keys (otherwise it is refused). Only after every check.
    public var flush: Bool
    /// Allow a target that is the archive's own source (or a replica of it).
    public var overwriteSource: Bool
    /// Keys of an RDB base come back with the TTL they had at the target second
    /// (absolute expiries shifted by now minus the target), so keys expired since the
    /// target are still there. Off: expiries stay as recorded.
    public var ttlAsOfTarget = false

    /// Bytes of the base and the first chunks that the check before writing keeps for
    /// the write, which then does not read them again (0...``maxCheckedBytesKept``).
    public var checkedBytesKept = 16 << 20

    /// Where a restore from a bucket keeps the chunks it checked beyond
    /// ``checkedBytesKept`` (a private, unlinked file; see ``RestoreSpool``), so the
    /// write does not download them again. Nil: `$TMPDIR`, else `/tmp`.
    public var spoolFolder: String?

    /// The largest window: more buys nothing and costs memory per command in flight.
    public static let maxWindow = 1_000_000
    /// The most checked bytes kept for the write.
    public static let maxCheckedBytesKept = 1 << 30

    /// Creates options.
    public init(window: Int = 50_000, flush: Bool = false, overwriteSource: Bool = false) {
        self.window = window
        self.flush = flush
        self.overwriteSource = overwriteSource
    }
}

/// What a restore did: the plan it followed, what the destination acknowledged, and
/// where it went.
public struct RestoreReport: Sendable {
    /// The plan.
    public let plan: RestorePlan
    /// What was applied (for a connection: acknowledged by the target).
    public let outcome: ReplayOutcome
    /// Where it went, for people: `NAME (host:port)`, a folder, a started server.
    public let destination: String
}

/// Point-in-time restore (`replay-until`): plans from the archive's index, checks what
/// the plan needs, and writes to the destination, reporting progress and stopping
/// cleanly when its task is cancelled (Ctrl-C).
public enum Restore {
    /// Restores `archive` to `target` into `destination`.
    ///
    /// Into a connection nothing is written (not even a FLUSHALL) before the target is
    /// known not to be the archive's own source and every object the plan needs has its
    /// recorded size and sha256.
    public static func run(archive: any ArchiveStore, target: ReplayTarget, destination: RestoreDestination,
                           options: RestoreOptions = RestoreOptions(),
                           progress: (@Sendable (RestoreProgress) -> Void)? = nil) async throws(RestoreError) -> RestoreReport {
        guard (1...RestoreOptions.maxWindow).contains(options.window) else {
            throw RestoreError(.invalidRequest, "the window must be 1 to \(RestoreOptions.maxWindow) commands, not \(options.window)")
        }
        guard (0...RestoreOptions.maxCheckedBytesKept).contains(options.checkedBytesKept) else {
            throw RestoreError(.invalidRequest, "the checked bytes kept for the write must be 0 to \(RestoreOptions.maxCheckedBytesKept), not \(options.checkedBytesKept)")
        }
        let clock = ContinuousClock.now
        let plan = try await ArchiveIO.run { () throws(RestoreError) in
            let index: ArchiveIndex
            do throws(ArchiveError) { index = try ArchiveIndex.read(archive) } catch { throw RestoreError(error) }
            return try RestorePlan.make(index, target: target)
        }
        let stop = StopFlag()
        // The work runs in a task of its own that is never cancelled: cancelling it would
        // close the target's connection mid-batch (a late reply could not be matched).
        // Cancellation of the caller only sets the stop flag, which every phase checks
        // between batches, so the restore ends cleanly and reports how far it got.
        let work = Task { () async -> Result<RestoreReport, RestoreError> in
            do throws(RestoreError) {
                let report = try await write(plan, to: destination, options: options, stop: stop, progress: progress)
                var outcome = report.outcome
                outcome.duration = seconds(ContinuousClock.now - clock)
                return .success(RestoreReport(plan: plan, outcome: outcome, destination: report.destination))
            } catch {
                return .failure(error)
            }
        }
        let result = await withTaskCancellationHandler { await work.value } onCancel: { stop.set() }
        return try result.get()
    }

    private static func write(_ plan: RestorePlan, to destination: RestoreDestination, options: RestoreOptions, stop: StopFlag,
                              progress: (@Sendable (RestoreProgress) -> Void)?) async throws(RestoreError) -> RestoreReport {
        switch destination {
        case .dryRun:
            let outcome = try await ArchiveIO.run { () throws(RestoreError) -> ReplayOutcome in
                let baseChecked = try plan.verifyBase { checked in
                    progress?(RestoreProgress(phase: .checking, done: checked, total: plan.generation.size))
                    return !stop.isSet
                }
                guard baseChecked else {
                    var outcome = ReplayOutcome(generation: plan.generation.gen)
                    outcome.interrupted = true
                    outcome.stopReason = "interrupted while checking the base"
                    return outcome
                }
                let cursor = ReplayCursor(plan)
                var read = 0
                while try cursor.next() != nil {
                    read += 1
                    if read % 10_000 == 0 {
                        progress?(RestoreProgress(phase: .stream, done: cursor.bytesRead, total: plan.plannedBytes))
                        if stop.isSet { break }
                    }
                }
                var outcome = cursor.outcome
                if stop.isSet { outcome.interrupted = true; outcome.stopReason = "interrupted" }
                return outcome
            }
            return RestoreReport(plan: plan, outcome: outcome, destination: "dry run (nothing written)")

        case .aofFolder(let folder):
            let outcome = try await writeFolder(plan, folder, stop: stop, progress: progress)
            return RestoreReport(plan: plan, outcome: outcome, destination: folder)

        case .localServer(let name, let lab, let port):
            let outcome = try await writeFolder(plan, lab.root + "/" + name + "/appendonlydir", stop: stop, progress: progress)
            let server: LocalServer
            do { server = try await lab.start(name, LocalServerOptions(port: port, appendOnly: true)) } catch {
                throw RestoreError(.destination, "the AOF folder was written, but the server \(name) did not start on it: \(error.message)", underlying: error)
            }
            return RestoreReport(plan: plan, outcome: outcome, destination: "\(name) (\(server.endpoint), started on the written AOF)")

        case .connection(let connection, let name, let scratch):
            return try await replay(plan, into: connection, name: name, scratch: { scratch }, options: options, stop: stop, progress: progress)
        case .connectionMakingScratch(let connection, let name, let scratch):
            return try await replay(plan, into: connection, name: name, scratch: scratch, options: options, stop: stop, progress: progress)
        }
    }

    /// Replays into a connection: refuses the archive's source, checks every object the
    /// plan needs (keeping what fits of their bytes for the write), then writes.
    private static func replay(_ plan: RestorePlan, into connection: RedisConnection, name: String, scratch: @escaping @Sendable () async -> Lab?,
                               options: RestoreOptions, stop: StopFlag,
                               progress: (@Sendable (RestoreProgress) -> Void)?) async throws(RestoreError) -> RestoreReport {
        if !options.overwriteSource { try await refuseSource(plan.index.descriptor, target: connection, name: name) }
        let checked = try await checkObjects(plan, keeping: options.checkedBytesKept, spoolFolder: options.spoolFolder,
                                             stop: stop, progress: progress)
        if stop.isSet {
            var outcome = ReplayOutcome(generation: plan.generation.gen)
            outcome.interrupted = true
            outcome.stopReason = "interrupted while checking the archive (nothing written)"
            return RestoreReport(plan: plan, outcome: outcome, destination: "\(name) (\(connection.endpoint))")
        }
        var replay = ConnectionReplay(plan: plan, target: connection)
        replay.window = options.window
        replay.flush = options.flush
        replay.stop = stop
        replay.progress = progress
        replay.makeLab = scratch
        replay.ttlAsOfTarget = options.ttlAsOfTarget
        replay.checked = checked
        var outcome = try await replay.run()
        outcome.notes = checked.notes + outcome.notes
        return RestoreReport(plan: plan, outcome: outcome, destination: "\(name) (\(connection.endpoint))")
    }

    private static func writeFolder(_ plan: RestorePlan, _ folder: String, stop: StopFlag,
                                    progress: (@Sendable (RestoreProgress) -> Void)?) async throws(RestoreError) -> ReplayOutcome {
        try await ArchiveIO.run { () throws(RestoreError) -> ReplayOutcome in
            var writer = AOFFolderWriter(plan: plan, folder: folder)
            writer.stop = stop
            writer.progress = { done, total in progress?(RestoreProgress(phase: .stream, done: done, total: total)) }
            writer.baseProgress = { done, total in progress?(RestoreProgress(phase: .base, done: done, total: total)) }
            return try writer.run()
        }
    }

    /// Checks the size and sha256 of the base and of every chunk the plan may read, on
    /// the thread pool, before anything is written. Returns what the write may use
    /// instead of reading the store again (see ``CheckedObjects``): the checked bytes of
    /// the base and the first chunks in memory, `budget` bytes at most, and, from a store
    /// whose reads are downloads, every other chunk, in a private spool file in
    /// `spoolFolder` (the system's temporary folder when nil), as far as its file system
    /// has room, so each object is downloaded once. A base over the budget goes to the
    /// spool from a folder too: the write must use bytes that were checked, and a base
    /// read again from its file could have changed since (a chunk is re-read whole and
    /// checked before use; a base is too large for that). Objects that do not fit are
    /// read again by the write (a base hashed as it is read, so a mismatch is found
    /// only at its end), and a note says so.
    static func checkObjects(_ plan: RestorePlan, keeping budget: Int = 0, spoolFolder: String? = nil, spoolCapacity: Int? = nil,
                             stop: StopFlag, progress: (@Sendable (RestoreProgress) -> Void)?) async throws(RestoreError) -> CheckedObjects {
        let chunks = plan.neededChunks
        let total = plan.generation.size + chunks.reduce(0) { $0 + $1.length }
        let store = plan.index.store
        let base = plan.generation
        let used = base.size <= max(0, budget) ? base.size : 0
        let spoolsBase = base.size > max(0, budget)
        let keepFirst = CheckedObjects(budget: budget).chunksThatFit(chunks, after: used)
        let kept = makeCheckedObjects(budget: budget, base: spoolsBase ? base.size : 0, spooling: store.readsAreDownloads ? chunks[keepFirst...] : [],
                                      folder: spoolFolder, capacity: spoolCapacity)
        // Where the base's and each chunk's checked bytes go: memory, a region of the
        // spool, or nowhere. The base first: the write needs it first.
        var baseRegion: SpooledBytes?
        var regions: [Int: Int] = [:]
        if let spool = kept.spool {
            if spoolsBase {
                if let offset = spool.reserve(base.size) {
                    baseRegion = SpooledBytes(spool: spool, offset: offset, length: base.size)
                } else {
                    kept.note("the restore spool in \(spool.folder) has no room for the base (\(Self.megabytes(base.size))): the write reads it again, checking its sha256 as it reads it")
                }
            }
            // Chunks only from a store whose reads are downloads: a folder's chunk is read
            // again whole (or, over 16 MB, into the spool) and checked before use.
            for at in keepFirst..<chunks.count where store.readsAreDownloads {
                guard let offset = spool.reserve(chunks[at].length) else {
                    let left = chunks[at...].reduce(0) { $0 + $1.length }
                    kept.note("the restore spool in \(spool.folder) has room for \(Self.megabytes(spool.bytesReserved)) of the chunks it should hold, not the other \(Self.megabytes(left)) (\(chunks.count - at) chunks): the write downloads those again")
                    break
                }
                regions[at] = offset
            }
        }
        try await ArchiveIO.run { [regions, baseRegion] () throws(RestoreError) in
            do throws(ArchiveError) {
                // A base kept in memory is checked beside the chunks, as one more object
                // (its round trip is not waited for on its own); one over the budget is
                // streamed through the hash first, into the spool when it has a region
                // for it, with its own progress (it may be gigabytes).
                let baseBeside = used > 0
                if !baseBeside {
                    let checked = try ArchiveObjectCheck.verifyBase(base, in: store, into: { raw, at throws(ArchiveError) in
                        if let baseRegion { try baseRegion.spool.write(raw, at: baseRegion.offset + at) }
                    }) { checked in
                        progress?(RestoreProgress(phase: .checking, done: checked, total: total))
                        return !stop.isSet
                    }
                    if !checked { return }
                    if let baseRegion { kept.keepBase(.spooled(baseRegion)) }
                }
                var done = baseBeside ? 0 : base.size
                progress?(RestoreProgress(phase: .checking, done: done, total: total))
                // Objects: the base (when beside), then the chunks. Those kept in memory
                // are read whole (their memory is the budget's, so they do not hold back
                // other reads); the others stream through a piece at a time, into the
                // spool or only through the hash.
                let first = baseBeside ? 1 : 0
                let streamed = LocalArchiveStore.pieceSize
                let width = store.readsAreDownloads ? checkReadersForDownloads : nil
                try ArchiveObjectCheck.forEach(count: first + chunks.count, in: store, width: width, stop: { stop.isSet },
                                               held: { item in item < first || item - first < keepFirst ? 0 : min(chunks[item - first].length, streamed) },
                                               check: { item throws(ArchiveError) in
                    guard item >= first else {
                        kept.keepBase(.memory(try ArchiveObjectCheck.base(base, in: store)))
                        return
                    }
                    let at = item - first
                    let chunk = chunks[at]
                    if at < keepFirst {
                        kept.keep(chunk, try ArchiveObjectCheck.chunk(chunk, in: store))
                    } else if let spool = kept.spool, let offset = regions[at] {
                        try ArchiveObjectCheck.chunk(chunk, in: store) { raw, at throws(ArchiveError) in
                            if stop.isSet { throw ArchiveError(.invalidRequest, "interrupted") }
                            try spool.write(raw, at: offset + at)
                        }
                        kept.keep(chunk, spooled: SpooledBytes(spool: spool, offset: offset, length: chunk.length))
                    } else {
                        try ArchiveObjectCheck.chunk(chunk, in: store) { _, _ throws(ArchiveError) in
                            if stop.isSet { throw ArchiveError(.invalidRequest, "interrupted") }
                        }
                    }
                }) { item in
                    done += item < first ? base.size : chunks[item - first].length
                    progress?(RestoreProgress(phase: .checking, done: done, total: total))
                }
                if stop.isSet { return }
            } catch {
                var failure = RestoreError(error)
                failure.message += "; nothing was written to the target"
                throw failure
            }
        }
        return kept
    }

    /// Readers the check runs against a store whose reads are downloads: the streamed
    /// reads hold a piece each, not a chunk, so more of them cost no memory and hide more
    /// of the round trips.
    static let checkReadersForDownloads = 6

    /// The checked objects of a restore, with a spool for `base` bytes of the base and
    /// `spooling` when there are any (or a note saying why there is none).
    private static func makeCheckedObjects(budget: Int, base: Int, spooling: ArraySlice<ArchiveRecord.Chunk>, folder: String?, capacity: Int?) -> CheckedObjects {
        guard base > 0 || !spooling.isEmpty else { return CheckedObjects(budget: budget, spoolFolder: folder) }
        do throws(ArchiveError) {
            return CheckedObjects(budget: budget, spool: try RestoreSpool(in: folder, capacity: capacity), spoolFolder: folder)
        } catch {
            let kept = CheckedObjects(budget: budget, spoolFolder: folder)
            let bytes = spooling.reduce(0) { $0 + $1.length }
            let what = [base > 0 ? "the base (\(megabytes(base)), checking its sha256 as it reads it)" : nil,
                        spooling.isEmpty ? nil : "\(spooling.count) chunks (\(megabytes(bytes)))"].compactMap { $0 }
            kept.note("\(error.message): the write downloads \(what.joined(separator: " and ")) again")
            return kept
        }
    }

    /// Bytes as megabytes, for notes.
    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    /// Refuses a target that is the archive's source: the same `run_id`, the same
    /// replication id, the same port on this host, or a replica of the source.
    static func refuseSource(_ descriptor: ArchiveDescriptor, target: RedisConnection, name: String) async throws(RestoreError) {
        let server: RedisInfo, replication: RedisInfo
        do {
            server = try await target.info("server")
            replication = try await target.info("replication")
        } catch {
            throw RestoreError(.target, "cannot read INFO of the target \(name) (\(target.endpoint)) to check it is not the archive's source: \(error)", underlying: error)
        }
        var reasons: [String] = []
        if let runId = descriptor.runId, server.string("run_id") == runId { reasons.append("it has the source's run_id \(runId)") }
        if let replid = descriptor.replicationId, replication.string("master_replid") == replid {
            reasons.append("it shares the source's replication id \(replid) (the source or one of its replicas)")
        }
        if let source = SourceAddress(descriptor.source) {
            if source.matches(target.endpoint) { reasons.append("its address is the source's, \(descriptor.source)") }
            if replication.string("role") == "slave", let host = replication.string("master_host"), let port = replication.int("master_port"),
               source.matches(host: host, port: port) {
                reasons.append("it is a replica of the source \(descriptor.source)")
            }
        }
        guard reasons.isEmpty else {
            throw RestoreError(.refusedTarget, "refusing to restore into \(name) (\(target.endpoint)): it is the server this archive protects, or a replica of it (\(reasons.joined(separator: "; "))); the archive's source is \(descriptor.source). Restore into a separate server, or add --overwrite-source if you really mean to replace the live data")
        }
    }

    static func seconds(_ d: Duration) -> Double { d.inSeconds }
}

/// An archive source's `host:port`, compared with a target's address.
struct SourceAddress {
    let host: String
    let port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = port
    }

    func matches(_ endpoint: RedisEndpoint) -> Bool {
        guard case .tcp(let h, let p) = endpoint else { return false }
        return matches(host: h, port: p)
    }

    func matches(host other: String, port otherPort: Int) -> Bool {
        guard port == otherPort else { return false }
        return Self.canonical(host) == Self.canonical(other)
    }

    /// Loopback names are one host.
    static func canonical(_ host: String) -> String {
        let h = host.lowercased()
        return ["localhost", "127.0.0.1", "::1", "0.0.0.0"].contains(h) ? "loopback" : h
    }
}
