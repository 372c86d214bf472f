import NIOCore
import RESP

/// What statements produced for the user and is not written yet, oldest first, written by
/// one task on the interpreter's loop.
///
/// Why a queue: the loop runs its queued tasks before it waits for the network, so output
/// queued while a statement runs is formatted and written while the next statement's
/// command is on its way to the server, not between a reply and the next request. Values
/// are kept as values (not closures) and a run of them is rendered into one reused
/// buffer: a closure, a task and an array per value were a measurable share of a script
/// of plain commands.
///
/// Confined to `loop`: the interpreter (which runs on that loop) appends and writes, and
/// so does the queued task. Nothing else touches it.
final class OutputQueue: @unchecked Sendable {
    /// One piece of output.
    enum Item {
        /// A statement's value, with the formatter of the moment it was produced (an
        /// `option output` that runs before the write must not change it).
        case value(RESPValue, ReplyFormatter, verbatim: Bool)
        /// Text for standard output.
        case text(String)
        /// Text for standard error.
        case error(String)
    }

    private let loop: any EventLoop
    private let output: any ShellOutput
    // Confined to the loop, and never reached while an access to them is under way: the
    // dynamic exclusivity check of each access (six per statement) is left out.
    @exclusivity(unchecked) private var items: [Item] = []
    /// Standard output gathered from a run of items, reused from one write to the next.
    @exclusivity(unchecked) private var gathered = OutputBytes()
    /// True from queuing the task that writes the items until it runs.
    @exclusivity(unchecked) private var taskQueued = false

    init(loop: any EventLoop, output: any ShellOutput) {
        self.loop = loop
        self.output = output
    }

    /// Queues `item`, and the task that writes it unless one is queued already. With
    /// `writtenByCaller`, no task: the caller calls ``writeQueued()`` soon (the next
    /// statement's command, while its reply is on the way), and output queued later
    /// with a task writes it all in order anyway.
    func append(_ item: Item, writtenByCaller: Bool = false) {
        assert(loop.inEventLoop)
        items.append(item)
        if !writtenByCaller && !taskQueued {
            taskQueued = true
            loop.execute {
                self.taskQueued = false
                self.writeQueued()
            }
        }
    }

    /// Writes everything queued, in order. Standard output gathered so far goes out
    /// before any error text, so the two stay in order when they share a terminal or file.
    func writeQueued() {
        assert(loop.inEventLoop)
        guard !items.isEmpty else { return }
        for item in items {
            switch item {
            case .value(let value, let formatter, let verbatim):
                formatter.render(value, verbatim: verbatim, into: &gathered)
            case .text(let text):
                gathered.append(text)
            case .error(let text):
                writeGathered()
                output.writeError(text)
            }
        }
        items.removeAll(keepingCapacity: true)
        writeGathered()
    }

    private func writeGathered() {
        guard !gathered.bytes.isEmpty else { return }
        output.write(bytes: gathered.bytes)
        gathered.bytes.removeAll(keepingCapacity: true)
    }
}
