import AOF
import NIOCore

/// Sends a run of plain `SET key value` commands (no options, outside any transaction)
/// as one `MSET key value key value ...`.
///
/// The target ends in the same state: MSET sets each key in order (a key named twice ends
/// with its last value, as the second SET leaves it), replaces a key of any type and
/// clears its TTL, as SET without options does. It never stops part-way: what refuses it
/// (OOM, NOPERM, READONLY, MISCONF) refuses it before it changes anything, and would have
/// refused each SET. The target runs one command where it ran hundreds: the per-command
/// work (lookup, ACL, call, statistics, reply) is most of a small SET's cost. 300,000
/// SETs load in half the time as MSETs of 1,000 (docs/performance.md), and a SET stream
/// is what most archives hold. A lone SET, or a run cut by any other command, a
/// transaction, an annotation-free chunk boundary or the bounds below, goes as archived.
final class SetRunMerger {
    /// SETs in one MSET at most.
    static let maxSets = 1_000
    /// The arguments of one MSET at most: the target holds a command's arguments until the
    /// last one arrives, so this keeps it small whatever the values' size.
    static let maxBytes = 64 << 10

    /// Per batch: the index of each MSET among the batch's commands, and how many SETs of
    /// the archive it carries (for counting what an error reply refused).
    private(set) var merged: [Int: Int] = [:]
    /// SETs sent inside an MSET since the replay began.
    private(set) var setsSentAsMSET = 0

    private var arguments = ByteBufferAllocator().buffer(capacity: maxBytes + 4096)
    private var sets = 0
    /// The run's first SET as archived (sent as it is when no other joins it) and where it is.
    private var first: (bytes: ByteBuffer, at: ReplayOutcome.Position)?

    /// True for a command this merger takes: `SET key value`, any case, nothing else.
    static func takes(_ entry: AOFEntry) -> Bool {
        entry.argumentCount == 3 && entry.hasName("SET")
    }

    /// Starts a batch (the MSET indexes are per batch).
    func startBatch() { merged.removeAll(keepingCapacity: true) }

    /// Adds a plain SET (see ``takes(_:)``) to the run; when the run is full it is written
    /// to `out` first. Returns the commands written to `out` (0 or 1).
    func add(_ entry: AOFEntry, at position: ReplayOutcome.Position, to out: inout ByteBuffer,
             positions: inout [ReplayOutcome.Position]) -> Int {
        var pair = entry.argumentsAfterName
        var written = 0
        if sets > 0 && (sets == Self.maxSets || arguments.readableBytes + pair.readableBytes > Self.maxBytes) {
            written = flush(to: &out, positions: &positions)
        }
        if sets == 0 { first = (entry.bytes, position) }
        arguments.writeBuffer(&pair)
        sets += 1
        return written
    }

    /// Writes the run to `out`, as one MSET or (a single SET) as archived, and starts
    /// another. Returns the commands written (0 or 1).
    func flush(to out: inout ByteBuffer, positions: inout [ReplayOutcome.Position]) -> Int {
        guard sets > 0, let first else { return 0 }
        if sets == 1 {
            var bytes = first.bytes
            out.writeBuffer(&bytes)
        } else {
            out.writeString("*\(2 * sets + 1)\r\n$4\r\nMSET\r\n")
            out.writeBuffer(&arguments)
            merged[positions.count] = sets
            setsSentAsMSET += sets
        }
        positions.append(first.at)
        arguments.clear()
        sets = 0
        self.first = nil
        return 1
    }
}
