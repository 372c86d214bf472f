/// What a session does with a running collector, whichever way it collects (following
/// AOF files, or as a replica): run it, ask its status, mark, stop it.
public protocol ArchiveCollecting: Sendable {
    /// The collector's name.
    var name: String { get }
    /// What it is doing now.
    func status() -> CollectorStatus
    /// Runs until ``requestStop()`` or cancellation, then archives what is pending.
    func run() async
    /// Asks ``run()`` to archive what is pending and return. Safe from any thread.
    func requestStop()
    /// Writes a named restore point to the server and records it in the archive.
    func mark(_ markName: String) async throws(CollectorError) -> ArchiveRecord.Mark
}

extension Collector: ArchiveCollecting {}
extension ReplicaCollector: ArchiveCollecting {}
