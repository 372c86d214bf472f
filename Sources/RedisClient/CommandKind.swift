import NIOCore
import RESP

/// How a command is answered, which decides how the connection waits for it.
public enum CommandKind: Sendable, Hashable {
    /// One reply, within the command timeout.
    case plain
    /// The server holds the command until something happens (BLPOP, BRPOP, BLMOVE,
    /// BZPOPMIN..., XREAD/XREADGROUP with BLOCK, WAIT, WAITAOF): its reply has no
    /// deadline, however long the command's own timeout (0 waits forever). Cancelling the
    /// wait still closes the connection.
    case blocking
    /// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE: answered by messages (one
    /// per channel), not by a reply; see ``RedisConnection/stream(encoded:kind:)``.
    case subscription
    /// MONITOR: `OK`, then one line per command the server runs, until the connection closes.
    case monitor

    /// The kind of the command encoded in `bytes` (an array of bulk strings, name first).
    public init(encodedCommand bytes: ByteBuffer) {
        self = bytes.withUnsafeReadableBytes { raw in
            guard let range = Self.nameRange(in: raw) else { return .plain }
            return CommandKind(name: UnsafeRawBufferPointer(rebasing: raw[range]), encodedCommand: bytes)
        }
    }

    /// The kind of `command`.
    public init(_ command: RESPCommand) {
        switch command.arguments.first {
        case .string(var name)?:
            self = name.withUTF8 { CommandKind(name: UnsafeRawBufferPointer($0), words: command.arguments) }
        case .bytes(let name)?:
            self = name.withUnsafeReadableBytes { CommandKind(name: $0, words: command.arguments) }
        case nil:
            self = .plain
        }
    }

    /// The kind of the command named `name` (any case), whose whole encoding is
    /// `encodedCommand` (read only for XREAD and XREADGROUP, to look for BLOCK).
    ///
    /// Made on every command: the first letter rules out almost every name, so a SET or a
    /// GET costs one comparison.
    public init(name: UnsafeRawBufferPointer, encodedCommand: ByteBuffer) {
        self.init(name: name) {
            var copy = encodedCommand
            var decoder = RESPDecoder()
            guard case .array(let words)? = try? decoder.decode(&copy)?.value else { return false }
            return Self.hasBlockOption(words.map { $0.string ?? "" })
        }
    }

    private init(name: UnsafeRawBufferPointer, words: [RESPArgument]) {
        self.init(name: name) {
            Self.hasBlockOption(words.map {
                switch $0 {
                case .string(let s): s
                case .bytes(let b): String(decoding: b.readableBytesView, as: UTF8.self)
                }
            })
        }
    }

    private init(name: UnsafeRawBufferPointer, blockOption: () -> Bool) {
        self = .plain
        guard let first = name.first else { return }
        // Explicit comparisons, no array of names: this runs for every command.
        func is_(_ wanted: StaticString) -> Bool { CommandName.matches(name, wanted) }
        switch first | 0x20 {  // lower case
        case UInt8(ascii: "b"):
            if is_("BLPOP") || is_("BRPOP") || is_("BRPOPLPUSH") || is_("BLMOVE") || is_("BLMPOP")
                || is_("BZPOPMIN") || is_("BZPOPMAX") || is_("BZMPOP") {
                self = .blocking
            }
        case UInt8(ascii: "w"):
            if is_("WAIT") || is_("WAITAOF") { self = .blocking }
        case UInt8(ascii: "x"):
            if is_("XREAD") || is_("XREADGROUP"), blockOption() { self = .blocking }
        case UInt8(ascii: "s"):
            if is_("SUBSCRIBE") || is_("SSUBSCRIBE") || is_("SUNSUBSCRIBE") { self = .subscription }
        case UInt8(ascii: "p"):
            if is_("PSUBSCRIBE") || is_("PUNSUBSCRIBE") { self = .subscription }
        case UInt8(ascii: "u"):
            if is_("UNSUBSCRIBE") { self = .subscription }
        case UInt8(ascii: "m"):
            if is_("MONITOR") { self = .monitor }
        default:
            break
        }
    }

    /// True when `BLOCK` is one of the options before `STREAMS` (XREAD, XREADGROUP).
    private static func hasBlockOption(_ words: [String]) -> Bool {
        for word in words.dropFirst() {
            let upper = word.uppercased()
            if upper == "STREAMS" { return false }
            if upper == "BLOCK" { return true }
        }
        return false
    }

    /// Where the name is in an encoded command: after `*N\r\n$L\r\n`.
    static func nameRange(in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var lineEnds: [Int] = []
        for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
            lineEnds.append(i)
            if lineEnds.count == 3 { break }
        }
        guard lineEnds.count == 3 else { return nil }
        return (lineEnds[1] + 1)..<(lineEnds[2] - 1)
    }
}
