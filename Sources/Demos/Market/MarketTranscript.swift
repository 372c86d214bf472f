import Foundation
import RESP

/// Every command a marketplace operation sent and every reply, in order, for `--explain`:
/// a class sees WATCH, MULTI, QUEUED and EXEC happen.
public final class MarketTranscript: @unchecked Sendable {
    /// One command and its reply.
    public struct Exchange: Sendable {
        /// The command's words.
        public var command: [String]
        /// What the server answered.
        public var reply: RESPValue
    }

    private let lock = NSLock()
    private var recorded: [Exchange] = []

    /// An empty transcript.
    public init() {}

    /// What was recorded so far.
    public var exchanges: [Exchange] { lock.withLock { recorded } }

    func append(_ command: RESPCommand, _ reply: RESPValue) {
        let words = command.arguments.map { argument -> String in
            switch argument {
            case .string(let s): return s
            case .bytes(let b): return String(decoding: b.readableBytesView, as: UTF8.self)
            }
        }
        lock.withLock { recorded.append(Exchange(command: words, reply: reply)) }
    }
}
