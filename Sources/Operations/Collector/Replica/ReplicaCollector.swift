import Foundation
import RESP
import RedisClient
import Synchronization

/// The collector as a replica (`chunk start --replica`): it connects to the server as a
/// replica does, turns the full sync's RDB into a generation and the command stream into
/// chunks (see ``ReplicaArchiver``), and after a dropped link or a restart continues with
/// `PSYNC <replid> <offset>` from what the archive holds. No AOF and no file access on
/// the server's host are needed.
///
/// It acknowledges (`REPLCONF ACK`) only offsets already archived, so a client's `WAIT 1`
/// against a master whose only replica is the collector returns once its writes are in
/// the archive.
public final class ReplicaCollector: Sendable {
    /// The collector's name.
    public let name: String
    /// How it archives (chunk size, interval, the rate of archive writes; pause and
    /// rewrites do not apply).
    public let options: CollectorOptions
    let source: RedisConnectionConfiguration
    let archiver: ReplicaArchiver
    let worker: CollectorThread
    /// What the links hold for the archiver: bounded (see ``ReplicaFlow``).
    let flow: ReplicaFlow
    let shared: Mutex<Shared>
    let log: (@Sendable (String) -> Void)?

    struct Shared {
        var status: CollectorStatus
        var stopRequested = false
        var link: ReplicaLink?
    }

    /// The longest pause between two connection attempts.
    static let maxRetryPause = 30.0

    init(name: String, options: CollectorOptions, source: RedisConnectionConfiguration, archiver: ReplicaArchiver,
         worker: CollectorThread, flow: ReplicaFlow, status: CollectorStatus, log: (@Sendable (String) -> Void)?) {
        self.name = name
        self.options = options
        self.source = source
        self.archiver = archiver
        self.worker = worker
        self.flow = flow
        self.log = log
        self.shared = Mutex(Shared(status: status))
    }

    /// Opens or creates the archive and reads where a previous run left off. The server
    /// is not contacted here: ``run()`` connects (and keeps reconnecting). At most about
    /// `bufferLimit` bytes received wait for the archive (see ``ReplicaFlow``).
    public static func open(name: String, source: RedisConnectionConfiguration, options: CollectorOptions,
                            bufferLimit: Int = ReplicaFlow.defaultLimit,
                            log: (@Sendable (String) -> Void)? = nil) async throws(CollectorError) -> ReplicaCollector {
        let endpoint = source.endpoint.description
        let store: any ArchiveStore
        do { store = try ArchiveStores.open(options.archive, s3Endpoint: options.s3Endpoint) } catch { throw CollectorError(error) }
        let worker = CollectorThread(name: "redkeep-replica-\(name)")
        let descriptor = ArchiveDescriptor(created: Date().timeIntervalSince1970, source: endpoint)
        let archiver: ReplicaArchiver
        do {
            archiver = try await withCheckedThrowingContinuation { (c: CheckedContinuation<ReplicaArchiver, any Error>) in
                worker.async {
                    do {
                        c.resume(returning: try ReplicaArchiver(store: store, descriptor: descriptor, master: endpoint,
                                                                chunkSize: options.chunkSize, rate: options.rate,
                                                                now: Date().timeIntervalSince1970))
                    } catch {
                        c.resume(throwing: error)
                    }
                }
            }
        } catch {
            worker.stop()
            throw (error as? CollectorError) ?? CollectorError(.source, "\(error)", underlying: error)
        }
        var status = CollectorStatus(name: name, source: endpoint, archive: options.archive)
        status.mode = "replica"
        var link = ReplicaLinkStatus()
        link.replicationId = archiver.archived?.replicationId
        link.offset = archiver.received
        link.archivedOffset = archiver.archived?.offset ?? 0
        status.replica = link
        return ReplicaCollector(name: name, options: options, source: source, archiver: archiver, worker: worker,
                                flow: ReplicaFlow(limit: bufferLimit), status: status, log: log)
    }

    /// What it is doing now.
    public func status() -> CollectorStatus { shared.withLock { $0.status } }

    /// Asks ``run()`` to archive what is pending and return. Safe from any thread.
    public func requestStop() {
        let link = shared.withLock { s in
            s.stopRequested = true
            return s.link
        }
        if let link { Task { await link.close() } }
    }

    var stopRequested: Bool { shared.withLock { $0.stopRequested } }

    /// Runs blocking archive work on the collector's thread.
    func io<T: Sendable>(_ body: @escaping @Sendable () throws(CollectorError) -> T) async throws(CollectorError) -> T {
        try await worker.run(body)
    }

    /// Runs until ``requestStop()`` or cancellation: connects, archives, and after a
    /// dropped link connects again (pausing 1 s, doubling up to 30 s while it fails).
    public func run() async {
        await withTaskCancellationHandler {
            await loop()
        } onCancel: {
            requestStop()
        }
    }

    private func loop() async {
        setState(.running)
        var pause = 1.0
        while !stopRequested {
            let streamed = await session()
            guard !stopRequested else { break }
            pause = streamed ? 1.0 : min(pause * 2, Self.maxRetryPause)
            await sleep(seconds: pause)
        }
        // The archive's lock goes with the run: another collector may take it now.
        let archiver = self.archiver
        try? await io { archiver.writer.close() }
        setState(.stopped)
        worker.stop()
    }

    /// One link: connect, handshake, archive until it drops. True when it got as far as
    /// the stream (the next attempt starts with a short pause again).
    private func session() async -> Bool {
        let archiver = self.archiver
        let resume = (try? await io { archiver.archived }) ?? nil
        let acknowledgement = ReplicaAcknowledgement(durableOffset: resume?.offset ?? 0)
        updateLink { $0.state = .connecting }
        let link: ReplicaLink
        do {
            link = try await ReplicaLink.connect(source, resume: resume.map { ($0.replicationId, $0.offset) },
                                                 acknowledgement: acknowledgement, flow: flow)
        } catch {
            noteError(error)
            updateLink { $0.state = .down }
            return false
        }
        let stopNow = shared.withLock { s in
            s.link = link
            return s.stopRequested
        }
        if stopNow { await link.close() }
        var streamed = false
        var failure: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            // Every interval: archive what is whole even when less than a chunk arrived.
            group.addTask { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: options.interval)
                    if Task.isCancelled { break }
                    if let durable = try? await io({ () throws(CollectorError) in archiver.streaming ? try archiver.flush(now: Date().timeIntervalSince1970) : nil }),
                       acknowledgement.advance(to: durable) {
                        link.acknowledge(durable)
                    }
                    await publish()
                }
            }
            do {
                for try await events in link.events {
                    try await io { () throws(CollectorError) in try archiver.handle(events, now: Date().timeIntervalSince1970) }
                    link.taken(events)
                    if let durable = try await io({ archiver.streaming ? archiver.archived?.offset : nil }), acknowledgement.advance(to: durable) {
                        link.acknowledge(durable)
                    }
                    noteEvents(events, &streamed)
                }
            } catch {
                failure = error
            }
            group.cancelAll()
        }
        await link.close()
        shared.withLock { $0.link = nil }
        do { try await io { () throws(CollectorError) in try archiver.linkEnded(now: Date().timeIntervalSince1970) } } catch { noteError(error) }
        if let failure, !stopRequested { noteError(failure) }
        updateLink { $0.state = .down }
        await publish()
        return streamed
    }

    private func noteEvents(_ events: [ReplicaEvent], _ streamed: inout Bool) {
        updateLink { link in
            for event in events {
                switch event {
                case .fullResync(let id, _):
                    link.state = .fullSync
                    link.replicationId = id
                    link.fullSyncs += 1
                    link.rdbBytes = 0
                case .continued(let id):
                    link.state = .streaming
                    if let id { link.replicationId = id }
                    link.resumes += 1
                case .rdbBytes(let bytes): link.rdbBytes += bytes.readableBytes
                case .rdbEnd: link.state = .streaming
                case .rdbStart, .command: break
                }
            }
            if link.state == .streaming { streamed = true }
        }
    }

    /// Copies the archiver's counters into the status.
    private func publish() async {
        let archiver = self.archiver
        guard let snapshot = try? await io({ () -> (Int, Int, Int, Double?, Int, Int?, (Int, Double?)) in
            (archiver.chunksCopied, archiver.bytesCopied, archiver.generationsCopied, archiver.lastCopy, archiver.received,
             archiver.archived?.offset, archiver.lag)
        }) else { return }
        let now = Date().timeIntervalSince1970
        shared.withLock { s in
            s.status.chunks = snapshot.0
            s.status.bytesCopied = snapshot.1
            s.status.generations = snapshot.2
            s.status.lastCopy = snapshot.3
            s.status.bytesBehind = snapshot.6.0
            s.status.replica?.offset = snapshot.4
            s.status.replica?.archivedOffset = snapshot.5 ?? 0
            s.status.replica?.lagBytes = snapshot.6.0
            s.status.replica?.lagSeconds = snapshot.6.1.map { max(0, now - $0) } ?? 0
            s.status.replica?.heldBytes = flow.held
            s.status.replica?.peakHeldBytes = flow.peak
        }
    }

    private func updateLink(_ body: (inout ReplicaLinkStatus) -> Void) {
        shared.withLock { s in
            var link = s.status.replica ?? ReplicaLinkStatus()
            body(&link)
            s.status.replica = link
        }
    }

    private func sleep(seconds: Double) async {
        let deadline = RateLimiter.now() + seconds
        while !stopRequested, RateLimiter.now() < deadline {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
    }

    func setState(_ state: CollectorStatus.State) { shared.withLock { $0.status.state = state } }

    func noteError(_ error: any Error) {
        let message = (error as? CollectorError)?.message ?? (error as? ReplicaLinkError)?.message ?? "\(error)"
        let repeated = shared.withLock { s in
            s.status.errors += 1
            defer { s.status.lastError = message }
            return s.status.lastError == message
        }
        if !repeated { log?("chunk \(name): \(message)") }
    }

    /// Writes a named restore point: `SET redkeep:mark:NAME <unix time>` on the server
    /// (it reaches the archive through the stream), then a `mark` record.
    public func mark(_ markName: String) async throws(CollectorError) -> ArchiveRecord.Mark {
        try Collector.validate(markName)
        let (key, at) = try await Collector.writeMarkKey(markName, to: source)
        let archiver = self.archiver
        return try await io { () throws(CollectorError) in try archiver.appendMark(name: markName, key: key, at: at) }
    }
}
