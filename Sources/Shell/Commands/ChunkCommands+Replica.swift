import Operations
import RESP

extension Interpreter {
    /// The replication link's lines of `chunk status` (a collector started with --replica).
    static func replicaFields(_ link: ReplicaLinkStatus) -> [(String, RESPValue)] {
        [
            ("link", .text(link.state.rawValue)),
            ("replication_id", link.replicationId.map { .text($0) } ?? .null),
            ("replication_offset", .integer(Int64(link.offset))),
            ("archived_offset", .integer(Int64(link.archivedOffset))),
            ("lag_bytes", .integer(Int64(link.lagBytes))),
            ("lag_seconds", .double(link.lagSeconds)),
            ("full_syncs", .integer(Int64(link.fullSyncs))),
            ("resumes", .integer(Int64(link.resumes))),
            ("held_bytes", .integer(Int64(link.heldBytes))),
            ("peak_held_bytes", .integer(Int64(link.peakHeldBytes))),
        ]
    }
}
