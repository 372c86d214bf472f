import Foundation

/// What a forwarded archive's uploader has to do and how it went, for `chunk status`.
public struct ArchiveUploadStatus: Sendable, Hashable {
    /// The spool folder.
    public var spool: String
    /// Objects (chunks and bases) spooled and not yet confirmed by the store.
    public var backlogObjects = 0
    /// Their bytes.
    public var backlogBytes = 0
    /// Unix seconds when the oldest of them was spooled (nil: nothing waits).
    public var oldestSpooled: Double?
    /// Objects uploaded and confirmed since the start.
    public var uploadedObjects = 0
    /// Their bytes.
    public var uploadedBytes = 0
    /// The last upload error, and when (nil once an upload succeeded after it).
    public var lastError: String?
    public var lastErrorAt: Double?
    /// Whether the uploader holds the remote's lease and knows its index.
    public var connected = false
    /// The CPU priority the shipping runs at (`normal` when the one asked for could not
    /// be set).
    public var priority = UploadPriority.normal
    /// Why the priority asked for could not be set (nil: it was).
    public var priorityProblem: String?

    /// Nothing uploaded yet, from the spool folder `spool`.
    public init(spool: String) { self.spool = spool }
}

/// Ships a spool's backlog to the remote store on a thread of its own: in order, objects
/// first (streamed from the spool, `--rate` capped, `--pause` between them), then one
/// append of their records, then the spooled objects are deleted. Failures are retried
/// with a growing wait (up to ``maxBackoff``); nothing is dropped.
///
/// The thread, and for an S3 remote the network I/O thread of a client of its own, run at
/// the ``UploadPriority`` asked for: shipping can wait in the spool, copying cannot.
final class ArchiveUploader: @unchecked Sendable {
    // @unchecked: the state below is guarded by `condition`; `remote` (once started),
    // `io`, `remoteWriter`, `confirmed` and `limiter` are used by the upload thread only.
    let spool: LocalArchiveStore
    /// The remote; for an S3 store, once started, the same bucket through the uploader's own client.
    private var remote: any ArchiveStore
    let pause: Duration
    let priority: UploadPriority
    /// The S3 client's own I/O thread (nil: not started, or not an S3 remote).
    private var io: UploadEventLoop?
    /// True once the thread has set its priority and its client up.
    private var prepared = false
    private var limiter: RateLimiter
    private let condition = NSCondition()
    /// Records in the spool not yet published remotely, with when they were spooled.
    private var pending: [(record: ArchiveRecord, since: Double)] = []
    /// False until the uploader compared the spool's index with the remote's.
    private var synced = false
    private var started = false
    private var stopping = false
    private var running = false
    private var drainDeadline = Date.distantFuture
    private var state: ArchiveUploadStatus
    private var remoteWriter: (any ArchiveIndexWriting)?
    /// Objects uploaded and confirmed whose records are not published yet.
    private var confirmed: Set<String> = []
    /// Records published at once at most.
    static let batch = 256
    static let maxBackoff = 5.0

    init(spool: LocalArchiveStore, remote: any ArchiveStore, pause: Duration, rate: Int?, priority: UploadPriority = .normal) {
        self.spool = spool
        // One lease id for the uploader's whole run (see S3ArchiveStore.leaseHolder).
        self.remote = (remote as? S3ArchiveStore)?.holdingLeases(as: S3IndexWriter.newHolder()) ?? remote
        self.pause = pause
        self.priority = priority
        self.limiter = RateLimiter(bytesPerSecond: rate)
        self.state = ArchiveUploadStatus(spool: spool.root)
    }

    /// Starts the upload thread (once) and waits (a moment) until it is at its priority,
    /// so the status tells at once whether that priority could be set.
    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !started else { return }
        started = true
        running = true
        let thread = Thread { [self] in
            ThreadName.setCurrent("redkeep-upload")
            prepare()
            loop()
        }
        thread.name = "redkeep-upload"
        thread.start()
        // Setting up is a few system calls and one thread start: bounded all the same.
        let deadline = Date().addingTimeInterval(10)
        while !prepared && Date() < deadline { _ = condition.wait(until: deadline) }
    }

    /// On the upload thread: sets its priority and, for an S3 remote, moves the uploads to
    /// a client of their own on an I/O thread at the same priority. What cannot be set is
    /// reported in the status; shipping then goes on at normal priority.
    private func prepare() {
        var problems: [String] = []
        if let problem = priority.applyToCurrentThread() { problems.append("the upload thread: \(problem)") }
        if let s3 = remote as? S3ArchiveStore {
            let io = UploadEventLoop(priority: priority)
            if let problem = io.priorityProblem { problems.append("its I/O thread: \(problem)") }
            do {
                remote = try s3.onOwnThread(io)
                self.io = io
            } catch {
                io.shutDown(after: nil)
                problems.append("its own S3 client (the shared one is used): \(error.message)")
            }
        }
        condition.lock()
        state.priority = problems.isEmpty ? priority : .normal
        if !problems.isEmpty {
            state.priorityProblem = "--upload-priority \(priority.rawValue) could not be set for \(problems.joined(separator: "; ")); shipping runs at normal priority"
        }
        prepared = true
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `publishLocally` (the spool's append) and queues its records, atomically with
    /// respect to the uploader's reading of the spool.
    func enqueue(_ records: [ArchiveRecord], publishLocally: () throws(ArchiveError) -> Void) throws(ArchiveError) {
        condition.lock()
        defer { condition.unlock() }
        try publishLocally()
        guard synced else { return }
        let now = Date().timeIntervalSince1970
        pending += records.map { ($0, now) }
        condition.broadcast()
    }

    func status() -> ArchiveUploadStatus {
        condition.lock()
        defer { condition.unlock() }
        var s = state
        s.backlogObjects = 0
        s.backlogBytes = 0
        s.oldestSpooled = nil
        for (record, since) in pending {
            guard let object = Self.object(of: record) else { continue }
            s.backlogObjects += 1
            s.backlogBytes += object.size
            if s.oldestSpooled == nil { s.oldestSpooled = since }
        }
        return s
    }

    /// Waits up to `drain` for the backlog to ship, then stops and gives the lease back.
    func finish(drain: Duration) {
        condition.lock()
        stopping = true
        drainDeadline = Date().addingTimeInterval(drain.inSeconds)
        condition.broadcast()
        // The thread ends within the drain time plus one request's timeout.
        while running { condition.wait() }
        condition.unlock()
    }

    /// The object a record names: its key, size and SHA-256.
    static func object(of record: ArchiveRecord) -> (key: String, size: Int, sha256: String)? {
        switch record {
        case .chunk(let c): (c.path, c.length, c.sha256)
        case .generation(let g): (g.path, g.size, g.sha256)
        default: nil
        }
    }

    private func loop() {
        var failures = 0
        while true {
            condition.lock()
            let done = stopping && ((synced && pending.isEmpty) || Date() >= drainDeadline)
            if done {
                condition.unlock()
                break
            }
            if synced && pending.isEmpty {
                _ = condition.wait(until: Date().addingTimeInterval(1))
                condition.unlock()
                continue
            }
            condition.unlock()
            do throws(ArchiveError) {
                try step()
                failures = 0
            } catch {
                failures += 1
                noteFailure(error)
                let wait = min(Self.maxBackoff, 0.2 * pow(2, Double(min(failures, 10))))
                condition.lock()
                let until = min(Date().addingTimeInterval(wait), drainDeadline)
                while !(stopping && Date() >= drainDeadline) && Date() < until { _ = condition.wait(until: until) }
                condition.unlock()
            }
        }
        shutDown()
    }

    /// One step: take the lease and learn the backlog, or ship one batch.
    private func step() throws(ArchiveError) {
        if remoteWriter == nil {
            let descriptor = try ArchiveIndex.read(spool).descriptor
            remoteWriter = try remote.openIndexWriter(creating: descriptor)
        }
        guard let writer = remoteWriter else { return }
        do {
            if !isSynced() { return try sync() }
            try ship(writer)
        } catch {
            // A lost lease or a segment published by another writer: start over (and be
            // refused clearly while the other holds the archive).
            if error.kind == .locked { writer.close(); remoteWriter = nil; setSynced(false) }
            throw error
        }
    }

    private func isSynced() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return synced
    }

    private func setSynced(_ value: Bool) {
        condition.lock()
        synced = value
        if !value { pending = [] }
        condition.unlock()
    }

    /// The backlog: the spool's records past the remote's, which must be their beginning.
    private func sync() throws(ArchiveError) {
        let published = try ArchiveIndex.read(remote).records
        condition.lock()
        defer { condition.unlock() }
        let local = try ArchiveIndex.read(spool)
        guard local.records.count >= published.count, Array(local.records.prefix(published.count)) == published else {
            throw ArchiveError(.invalidRequest, "the spool \(spool.root) does not continue the archive at \(remote.location) (it holds \(local.records.count) records, the archive \(published.count), and they differ): was the archive pruned or written by another collector? Move the spool aside to start again from the archive", object: spool.root)
        }
        let now = Date().timeIntervalSince1970
        pending = local.records.dropFirst(published.count).map { record in
            if case .chunk(let c) = record { return (record, c.copiedAt) }
            return (record, now)
        }
        synced = true
        state.connected = true
        condition.broadcast()
    }

    /// Uploads the objects of the next batch of records, publishes the records, then
    /// deletes the spooled objects.
    private func ship(_ writer: any ArchiveIndexWriting) throws(ArchiveError) {
        condition.lock()
        let batch = pending.prefix(Self.batch).map(\.record)
        condition.unlock()
        guard !batch.isEmpty else { return }
        var shipped: [String] = []
        for record in batch {
            guard let object = Self.object(of: record) else { continue }
            if !confirmed.contains(object.key) {
                try upload(object)
                confirmed.insert(object.key)
                recordUpload(object.size)
                if pause > .zero && !isStopping() { Thread.sleep(forTimeInterval: pause.inSeconds) }
            }
            shipped.append(object.key)
        }
        try writer.append(batch)
        condition.lock()
        pending.removeFirst(batch.count)
        state.lastError = nil
        condition.unlock()
        confirmed.subtract(shipped)
        try spool.delete(shipped)
    }

    /// Streams one spooled object to the remote and checks what the store took. An object
    /// already gone from the spool was shipped by an earlier run that stopped before its
    /// record was published: the remote copy is checked instead.
    private func upload(_ object: (key: String, size: Int, sha256: String)) throws(ArchiveError) {
        guard try spool.size(of: object.key) != nil else {
            let name = remote.describe(object.key)
            guard try remote.size(of: object.key) == object.size else {
                throw ArchiveError(.missing, "\(spool.describe(object.key)) is gone from the spool and \(name) does not hold it: it cannot be shipped", object: name)
            }
            return
        }
        let piece = 4 << 20
        let info = try remote.write(object.key, replacing: true) { writer throws(ArchiveError) in
            var position = 0
            while position < object.size {
                limiter.waitBlocking()
                let bytes = try spool.read(object.key, range: position..<min(object.size, position + piece))
                guard !bytes.isEmpty else {
                    throw ArchiveError(.damaged, "\(spool.describe(object.key)) ends at byte \(position), its record says \(object.size)", object: spool.describe(object.key))
                }
                try writer.append(bytes)
                limiter.charge(bytes.count)
                position += bytes.count
            }
        }
        guard info.size == object.size, info.sha256 == object.sha256 else {
            let name = spool.describe(object.key)
            throw ArchiveError(.damaged, "\(name) is not what its record says (\(info.size) bytes, sha256 \(info.sha256.prefix(12))...; the record: \(object.size), \(object.sha256.prefix(12))...): not shipped", object: name)
        }
    }

    private func isStopping() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    private func recordUpload(_ bytes: Int) {
        condition.lock()
        state.uploadedObjects += 1
        state.uploadedBytes += bytes
        condition.unlock()
    }

    private func noteFailure(_ error: ArchiveError) {
        condition.lock()
        state.lastError = error.message
        state.lastErrorAt = Date().timeIntervalSince1970
        condition.unlock()
    }

    /// Gives the lease back; with nothing left to ship, removes the spool's index so the
    /// next run starts from the remote's.
    private func shutDown() {
        remoteWriter?.close()
        remoteWriter = nil
        // The lease is given back: the uploader's own client and thread can go.
        if let io {
            io.shutDown(after: (remote as? S3ArchiveStore)?.client)
            self.io = nil
        }
        condition.lock()
        let empty = synced && pending.isEmpty
        running = false
        state.connected = false
        condition.broadcast()
        condition.unlock()
        if empty { try? spool.delete([ArchiveLayout.indexKey, ArchiveLayout.descriptorKey]) }
    }
}
