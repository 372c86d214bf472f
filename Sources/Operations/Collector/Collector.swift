import Foundation
import RESP
import RedisClient
import Synchronization

/// The roll-forward collector: follows one server's append-only files and copies them
/// into an archive (see docs/archive.md), chunk by chunk, with a pause between chunks and
/// a cap on the read rate, and asks for scheduled rewrites.
///
/// One pass (``pass(pausing:)``) samples the files' sizes, follows the manifest (new incr
/// files, new base) and copies what is new; ``run()`` repeats it every interval until
/// ``requestStop()`` (or cancellation), then copies what is pending. The file work runs on
/// the collector's own low-priority thread; the Redis connection is used only to read the
/// configuration at the start, for scheduled rewrites, and for marks.
public final class Collector: Sendable {
    /// The collector's name (one per server in a session).
    public let name: String
    /// How it copies.
    public let options: CollectorOptions
    let source: RedisConnectionConfiguration
    let engine: CollectorEngine
    let worker: CollectorThread
    let shared: Mutex<Shared>
    let log: (@Sendable (String) -> Void)?

    struct Shared {
        var status: CollectorStatus
        var stopRequested = false
        var connection: RedisConnection?
        /// (monotonic seconds, bytes copied) at recent passes, for the rate.
        var history: [(Double, Int)] = []
        /// The server's AOF switch, as last seen (see ``watchAOF()``).
        var aofWatch = AOFWatch(lastSeenOn: Date().timeIntervalSince1970)
    }

    init(name: String, options: CollectorOptions, source: RedisConnectionConfiguration, engine: CollectorEngine,
         worker: CollectorThread, status: CollectorStatus, connection: RedisConnection, log: (@Sendable (String) -> Void)?) {
        self.name = name
        self.options = options
        self.source = source
        self.engine = engine
        self.worker = worker
        self.log = log
        self.shared = Mutex(Shared(status: status, connection: connection))
    }

    /// What it is doing now.
    public func status() -> CollectorStatus {
        var status = shared.withLock { $0.status }
        if let forwarding = engine.store as? ForwardingArchiveStore { status.upload = forwarding.uploadStatus() }
        return status
    }

    /// Asks ``run()`` to copy what is pending and return. Safe from any thread (signal
    /// handlers, another task).
    public func requestStop() { shared.withLock { $0.stopRequested = true } }

    var stopRequested: Bool { shared.withLock { $0.stopRequested } }

    /// Runs blocking file work on the collector's thread.
    func io<T: Sendable>(_ body: @escaping @Sendable () throws(CollectorError) -> T) async throws(CollectorError) -> T {
        try await worker.run(body)
    }

    /// Runs until ``requestStop()`` or cancellation, then copies what is pending.
    public func run() async {
        await withTaskCancellationHandler {
            await loop()
        } onCancel: {
            requestStop()
        }
    }

    private func loop() async {
        setState(.running)
        let schedule = RewriteSchedule(at: options.rewriteAt, every: options.rewriteEvery, origin: Date())
        var nextRewrite = schedule.next(after: Date())
        shared.withLock { $0.status.nextRewrite = nextRewrite?.timeIntervalSince1970 }
        let interval = Self.seconds(options.interval)
        let folder = openAOFFolderWatch()
        defer { folder?.close() }
        while !stopRequested {
            let started = RateLimiter.now()
            // Before the pass: a gap for an off window is recorded before the base Redis
            // writes when the AOF comes back, which serves the times after it.
            await watchAOF(folder: folder)
            await pass(pausing: true)
            if let due = nextRewrite, Date() >= due, !stopRequested {
                await scheduledRewrite()
                nextRewrite = schedule.next(after: Date())
                shared.withLock { $0.status.nextRewrite = nextRewrite?.timeIntervalSince1970 }
            }
            await sleep(until: started + interval)
        }
        setState(.stopping)
        // A toggle in the last interval is seen (and its gap recorded) before the last pass.
        await watchAOF(folder: folder)
        await pass(pausing: false)
        await recordAOFStillOff()
        let connection = shared.withLock { s in
            defer { s.connection = nil }
            return s.connection
        }
        await connection?.close()
        // An archive in object storage: ship what is spooled (for a while), give the lease back.
        if let forwarding = engine.store as? ForwardingArchiveStore {
            await ArchiveIO.run { forwarding.finish() }
        }
        setState(.stopped)
    }

    /// One pass: observe, copy every whole command that is new (pausing between chunks
    /// unless stopping), end the streams Redis is done with.
    func pass(pausing: Bool) async {
        let engine = self.engine
        let interval = Self.seconds(options.interval)
        var observed = -Double.infinity
        // A pass copies the bytes that were behind when it began, not a file that keeps
        // growing: under writes faster than it copies it would never end, and neither
        // would the interval's other work (the AOF watch, rewrites) nor a stop.
        var budget: Int?
        var copiedThisPass = 0
        while true {
            // A long pass (a backlog, small chunks) still looks at the folder every
            // interval, so a new incr file is opened (and kept) before Redis can delete it.
            if RateLimiter.now() - observed >= interval {
                observed = RateLimiter.now()
                let now = Date().timeIntervalSince1970
                do { try await io { () throws(CollectorError) in try engine.observe(now: now) } } catch { noteError(error) }
                if budget == nil { budget = (try? await io { engine.snapshot })?.bytesBehind }
            }
            let step: (bytes: Int, wait: Duration)
            do {
                step = try await io { () throws(CollectorError) in try engine.copyNextChunk(now: Date().timeIntervalSince1970) }
            } catch {
                noteError(error)
                break
            }
            publish(try? await io { engine.snapshot })
            guard step.bytes > 0 else { break }
            copiedThisPass += step.bytes
            if let budget, copiedThisPass >= budget { break }
            let pause = pausing && !stopRequested ? options.pause : .zero
            let wait = max(pause, step.wait)
            if wait > .zero { try? await Task.sleep(for: wait) }
        }
        do { try await io { () throws(CollectorError) in try engine.finishStreams(now: Date().timeIntervalSince1970) } } catch { noteError(error) }
        publish(try? await io { engine.snapshot })
    }

    /// Sleeps until a monotonic moment, waking early for a stop request.
    private func sleep(until deadline: Double) async {
        while !stopRequested {
            let left = deadline - RateLimiter.now()
            guard left > 0 else { return }
            do { try await Task.sleep(for: .milliseconds(Int64(min(left, 0.05) * 1000) + 1)) } catch { return }
        }
    }

    func setState(_ state: CollectorStatus.State) { shared.withLock { $0.status.state = state } }

    func noteError(_ error: any Error) {
        let message = (error as? CollectorError)?.message ?? "\(error)"
        let repeated = shared.withLock { s in
            s.status.errors += 1
            defer { s.status.lastError = message }
            return s.status.lastError == message
        }
        if !repeated { log?("chunk \(name): \(message)") }
    }

    private func publish(_ snapshot: CollectorEngine.Snapshot?) {
        guard let snapshot else { return }
        let now = RateLimiter.now()
        shared.withLock { s in
            s.status.files = snapshot.files
            s.status.bytesBehind = snapshot.bytesBehind
            s.status.chunks = snapshot.chunks
            s.status.bytesCopied = snapshot.bytesCopied
            s.status.generations = snapshot.generations
            s.status.lastCopy = snapshot.lastCopy
            s.history.append((now, snapshot.bytesCopied))
            s.history.removeAll { now - $0.0 > 60 }
            if let oldest = s.history.first, now - oldest.0 > 0.5 {
                s.status.rate = Double(snapshot.bytesCopied - oldest.1) / (now - oldest.0)
            }
        }
    }

    /// The connection to the server, reconnecting when it broke (the server restarted).
    func redis() async throws(CollectorError) -> RedisConnection {
        if let open = shared.withLock({ $0.connection }), open.isOpen { return open }
        do {
            let connection = try await RedisConnection.connect(source)
            shared.withLock { $0.connection = connection }
            return connection
        } catch {
            throw CollectorError(error.message)
        }
    }

    static func seconds(_ d: Duration) -> Double {
        d.inSeconds
    }
}
