import NIOCore
import RESP
import RedisClient

/// A Redis command as the shell sends it: its words encoded straight into the bytes that
/// go on the wire, and what the evaluator asks about it read from the name's bytes.
///
/// A statement's words become one buffer, with no ``RESPCommand`` or argument buffers in
/// between, and no String unless an error message needs the name: building those for
/// every statement was about a tenth of the CPU time of a script of plain SETs.
struct PreparedCommand: Sendable {
    /// The command as RESP: an array of bulk strings.
    let encoded: ByteBuffer
    /// Where the name's bytes are in ``encoded``.
    private let nameRange: Range<Int>

    /// What a command does to the connection's MULTI state (the prompt's `(TX)`).
    enum TransactionEffect: Sendable {
        case none
        /// MULTI: a transaction starts (if the server accepts it).
        case begins
        /// EXEC or DISCARD.
        case ends
    }

    private static let allocator = ByteBufferAllocator()

    /// Prepares the command whose words, name first, are `words`.
    init(words: [[UInt8]]) {
        var buffer = Self.allocator.buffer(capacity: 64)
        self.init(words[...], encodingInto: &buffer, length: { $0.count }, copy: { word, out in
            word.withUnsafeBytes { out.copyMemory(from: $0) }
        })
    }

    /// Prepares a statement's words when none needs substituting (see
    /// ``Statement/Kind/redis(literal:)``), encoding them as they are into `buffer`'s
    /// storage when nothing else holds it any more (the previous command's reply has
    /// come): no allocation for a statement in a script of many.
    init(literal words: ArraySlice<Word>, reusing buffer: inout ByteBuffer) {
        buffer.clear()
        self.init(words, encodingInto: &buffer, length: { $0.literalCount! }, copy: { word, out in
            word.withLiteralBytes { out.copyMemory(from: $0) }
        })
    }

    @inline(__always)
    private init<Words: Collection>(_ words: Words, encodingInto buffer: inout ByteBuffer,
                                    length: (Words.Element) -> Int,
                                    copy: (Words.Element, UnsafeMutableRawBufferPointer) -> Void) {
        buffer.writeRESPBulkArray(words, length: length, copy: copy)
        let encoded = buffer
        self.encoded = encoded
        // The name follows the array's header and its own length line: "*N\r\n$L\r\n".
        let nameLength = words.first.map(length) ?? 0
        let nameStart = encoded.withUnsafeReadableBytes { bytes in
            var lineEnds = 0
            for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
                lineEnds += 1
                if lineEnds == 2 { return i + 1 }
            }
            return bytes.count
        }
        self.nameRange = words.isEmpty ? 0..<0 : nameStart..<(nameStart + nameLength)
    }

    /// Prepares a command given as text.
    init(_ words: String...) {
        self.init(words: words.map { Array($0.utf8) })
    }

    /// MULTI and EXEC, for `multi { }` inside `pipeline { }`.
    static let multi = PreparedCommand("MULTI")
    static let exec = PreparedCommand("EXEC")

    /// True when the command's name is `upperCaseName`, in any case.
    func hasName(_ upperCaseName: StaticString) -> Bool {
        // `nameRange` counts from the readable bytes' start: the buffer is never read from.
        encoded.withUnsafeReadableBytes { CommandName.matches(UnsafeRawBufferPointer(rebasing: $0[nameRange]), upperCaseName) }
    }

    /// Calls `body` with the name's bytes, as typed.
    func withName<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        encoded.withUnsafeReadableBytes { body(UnsafeRawBufferPointer(rebasing: $0[nameRange])) }
    }

    /// How the server answers it: blocking commands have no reply deadline, SUBSCRIBE and
    /// MONITOR stream messages. One comparison for most names.
    var kind: CommandKind {
        withName { CommandKind(name: $0, encodedCommand: encoded) }
    }

    /// The words after the name, as text (for the few commands whose arguments the shell
    /// looks at: SELECT, AUTH, HELLO, CLIENT SETNAME).
    var arguments: [String] {
        var copy = encoded
        var decoder = RESPDecoder()
        guard case .array(let words)? = try? decoder.decode(&copy)?.value else { return [] }
        return words.dropFirst().map { $0.string ?? "" }
    }

    /// The name, upper-cased, for messages.
    var name: String {
        encoded.withUnsafeReadableBytes { String(decoding: $0[nameRange], as: UTF8.self).uppercased() }
    }

    var transaction: TransactionEffect {
        if hasName("MULTI") { return .begins }
        if hasName("EXEC") || hasName("DISCARD") { return .ends }
        return .none
    }
}
