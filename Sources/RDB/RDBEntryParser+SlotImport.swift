/// Valkey 9's slot import opcode, `RDB_OPCODE_SLOT_IMPORT` (243, "Slot import state
/// (9.0)", valkey-io/valkey src/rdb.h at 01756301ec98fdf8c31936552d2d123ff0f362f5): an
/// atomic slot migration this cluster node was importing when it saved. Written by
/// src/cluster_migrateslots.c `clusterRDBSaveSlotImports` (at
/// 008734eee6e4b15303e283b488458d68497fa19d) once per unfinished import job: the opcode,
/// `rdbSaveRawString(job->name, CLUSTER_NAMELEN)`, `rdbSaveLen(number of ranges)`, then
/// per range `rdbSaveLen(start_slot)` and `rdbSaveLen(end_slot)`; read back the same way
/// by `clusterRDBLoadSlotImport`. Valkey refuses a file whose opcode it does not know, so
/// a reader that skipped it silently could not be told from one that read it.
extension RDBEntryParser {
    /// The rest of a slot import opcode, after its byte.
    mutating func readSlotImport() throws(RDBError) -> RDBEntry {
        walker.decode = true
        defer { walker.decode = false }
        let job = try walker.string("a slot import job name")!
        var ranges: [ClosedRange<UInt64>] = []
        // Each range takes at least 2 bytes, its two lengths.
        for _ in 0..<(try walker.count("a slot range count", minimumBytes: 2)) {
            let at = walker.input.offset
            let start = try walker.length("a slot range start")
            let end = try walker.length("a slot range end")
            guard start <= end else {
                throw RDBError(.malformed, at: at, "slot range \(start)-\(end) of a slot import ends before it starts")
            }
            ranges.append(start...end)
        }
        return .slotImport(job: job, slots: ranges)
    }
}
