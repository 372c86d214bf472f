import NIOCore
import RESP

/// What a replication link delivers, in the order the master sent it.
public enum ReplicaEvent: Sendable, Equatable {
    /// `+FULLRESYNC <replid> <offset>`: an RDB follows, then the stream from `offset`.
    case fullResync(replicationId: String, offset: Int)
    /// `+CONTINUE [<replid>]`: the backlog follows from the offset asked for; a new id
    /// means the master failed over (the history goes on under the new id).
    case continued(newReplicationId: String?)
    /// The RDB begins: `size` bytes (disk-based), or nil (diskless, `$EOF:<mark>`).
    case rdbStart(size: Int?)
    /// Bytes of the RDB, in order.
    case rdbBytes(ByteBuffer)
    /// The RDB ended; the command stream follows.
    case rdbEnd
    /// One message of the command stream.
    case command(ReplicaCommand)
}

/// One message of the replication stream with its place in the master's history.
public struct ReplicaCommand: Sendable, Equatable {
    /// What the collector does with it.
    public enum Kind: Sendable, Equatable {
        /// A write (SELECT, MULTI/EXEC and the commands between included): archived.
        case write
        /// The master's keepalive `PING`: counted in the offset, not archived.
        case ping
        /// `REPLCONF ...` (GETACK): counted in the offset, answered, not archived.
        case replconf(getAck: Bool)
    }

    /// The message's exact bytes.
    public var bytes: ByteBuffer
    /// The replication offset of its first byte.
    public var offset: Int
    public var kind: Kind

    /// The replication offset just after it.
    public var end: Int { offset + bytes.readableBytes }
}

/// Why a replication link failed: the step, against which master, and what it said.
public struct ReplicaLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The master refused a handshake command (AUTH, REPLCONF, PSYNC).
        case refused
        /// The master answered something the protocol does not allow.
        case protocolViolation
        /// The master is not ready (`-LOADING`, `-NOMASTERLINK`, `-MASTERDOWN`): try again later.
        case notReady
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// The replica side of Redis replication as a state machine over bytes: it reads the
/// handshake replies, the PSYNC answer, the RDB (`$<len>` or `$EOF:<mark>`) and then the
/// command stream, and turns them into ``ReplicaEvent``s. No I/O: ``ReplicaLinkHandler``
/// feeds it what the socket reads, and tests feed it bytes directly.
///
/// AUTH and the REPLCONFs are pipelined (see ``handshake(user:password:listeningPort:resume:)``);
/// PSYNC goes out only once they are all answered (Redis refuses SYNC and PSYNC while
/// replies are pending): ``takeOutgoing()`` hands it over at that point.
public struct ReplicaProtocol: Sendable {
    enum State: Sendable, Equatable {
        /// Waiting for the replies to AUTH/REPLCONF; the labels name the commands left.
        case handshake(pending: [String])
        case psyncReply
        /// After +FULLRESYNC: `\n` keepalives, then `$<len>` or `$EOF:<mark>`.
        case rdbHeader
        case rdbSized(left: Int)
        case rdbMarked(mark: [UInt8])
        case streaming
        case failed
    }

    static let markLength = 40
    /// The longest handshake line accepted (a reply is a few dozen bytes).
    static let maxLineLength = 64 * 1024

    private(set) var state: State
    /// The master, `host:port`, for messages.
    let master: String
    /// The replication offset of the next stream byte (valid once streaming).
    public private(set) var offset = 0
    private var decoder = RESPDecoder()
    /// Diskless RDB bytes held back: they may be the start of the end mark.
    private var heldBack: [UInt8] = []
    /// The PSYNC command, until it is due.
    private var psync: ByteBuffer?
    /// Bytes to send now (PSYNC, once the handshake replies are in).
    private var outgoing: ByteBuffer?

    /// Expects replies to the handshake commands named in `pending` (in order), then
    /// sends `psync` and expects its answer; `continuingAt` is the offset PSYNC asks for
    /// (where a `+CONTINUE` stream starts).
    public init(master: String, pending: [String], psync: ByteBuffer, continuingAt: Int? = nil) {
        self.master = master
        self.offset = continuingAt ?? 0
        if pending.isEmpty {
            self.state = .psyncReply
            self.outgoing = psync
        } else {
            self.state = .handshake(pending: pending)
            self.psync = psync
        }
    }

    /// What must be sent now, if anything (taken once).
    public mutating func takeOutgoing() -> ByteBuffer? {
        defer { outgoing = nil }
        return outgoing
    }

    /// True once the command stream flows.
    public var isStreaming: Bool { state == .streaming }

    /// The handshake a replica sends: AUTH (when a password is given), `REPLCONF
    /// listening-port`, `REPLCONF capa eof capa psync2` (sent at once, pipelined: their
    /// labels are `pending`), then PSYNC (`? -1` for a full sync, or the id and next
    /// offset to continue: `resume.offset` is the offset received so far, as in
    /// `REPLCONF ACK`), sent after their replies.
    public static func handshake(user: String?, password: String?, listeningPort: Int,
                                 resume: (replicationId: String, offset: Int)?) -> (bytes: ByteBuffer, pending: [String], psync: ByteBuffer) {
        var buffer = ByteBuffer()
        var pending: [String] = []
        if let password {
            var words: [RESPArgument] = ["AUTH"]
            if let user { words.append(.string(user)) }
            words.append(.string(password))
            buffer.writeRESPCommand(RESPCommand(words))
            pending.append("AUTH")
        }
        buffer.writeRESPCommand(RESPCommand("REPLCONF", "listening-port", String(listeningPort)))
        pending.append("REPLCONF listening-port")
        buffer.writeRESPCommand(RESPCommand("REPLCONF", "capa", "eof", "capa", "psync2"))
        pending.append("REPLCONF capa")
        var psync = ByteBuffer()
        if let resume {
            // Redis numbers stream bytes from 1: the next byte after `offset` received is offset+1.
            psync.writeRESPCommand(RESPCommand("PSYNC", resume.replicationId, String(resume.offset + 1)))
        } else {
            psync.writeRESPCommand(RESPCommand("PSYNC", "?", "-1"))
        }
        return (buffer, pending, psync)
    }

    /// `REPLCONF ACK <offset>`.
    public static func ack(_ offset: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeRESPCommand(RESPCommand("REPLCONF", "ACK", String(offset)))
        return buffer
    }

    /// Consumes what it can of `buffer` (bytes left are an incomplete line or message:
    /// keep them and append the next read) and returns the events it makes.
    public mutating func receive(_ buffer: inout ByteBuffer) throws(ReplicaLinkError) -> [ReplicaEvent] {
        var events: [ReplicaEvent] = []
        do {
            while buffer.readableBytes > 0 {
                guard try step(&buffer, &events) else { break }
            }
        } catch {
            state = .failed
            throw error
        }
        return events
    }

    /// One step of the current state; false when it needs more bytes.
    private mutating func step(_ buffer: inout ByteBuffer, _ events: inout [ReplicaEvent]) throws(ReplicaLinkError) -> Bool {
        switch state {
        case .handshake(var pending):
            guard let line = try readLine(&buffer) else { return false }
            if line.isEmpty { return true }
            let command = pending.removeFirst()
            if line.hasPrefix("-") { throw refusal(command, line) }
            guard line.hasPrefix("+") else { throw violation("answered \(command) with \"\(line.prefix(80))\"") }
            if pending.isEmpty {
                state = .psyncReply
                outgoing = psync
                psync = nil
            } else {
                state = .handshake(pending: pending)
            }
        case .psyncReply:
            // Empty lines are keepalives the master may send before answering.
            guard let line = try readLine(&buffer) else { return false }
            if line.isEmpty { return true }
            try psyncAnswer(line, &events)
        case .rdbHeader:
            guard let line = try readLine(&buffer) else { return false }
            if line.isEmpty { return true }
            try rdbHeader(line, &events)
        case .rdbSized(let left):
            let n = min(left, buffer.readableBytes)
            events.append(.rdbBytes(buffer.readSlice(length: n)!))
            if n == left {
                finishRDB(&events)
            } else {
                state = .rdbSized(left: left - n)
            }
        case .rdbMarked(let mark):
            markedBytes(&buffer, mark: mark, &events)
        case .streaming:
            return try streamed(&buffer, &events)
        case .failed:
            throw violation("the link already failed")
        }
        return true
    }

    private mutating func psyncAnswer(_ line: String, _ events: inout [ReplicaEvent]) throws(ReplicaLinkError) {
        let words = line.split(separator: " ").map(String.init)
        if words.first == "+FULLRESYNC", words.count == 3, let start = Int(words[2]), start >= 0 {
            offset = start
            state = .rdbHeader
            events.append(.fullResync(replicationId: words[1], offset: start))
        } else if words.first == "+CONTINUE" {
            state = .streaming
            decoder = RESPDecoder(startOffset: offset)
            events.append(.continued(newReplicationId: words.count > 1 ? words[1] : nil))
        } else if line.hasPrefix("-") {
            throw refusal("PSYNC", line)
        } else {
            throw violation("answered PSYNC with \"\(line.prefix(80))\"")
        }
    }

    private mutating func rdbHeader(_ line: String, _ events: inout [ReplicaEvent]) throws(ReplicaLinkError) {
        guard line.hasPrefix("$") else {
            if line.hasPrefix("-") { throw refusal("the full sync", line) }
            throw violation("sent \"\(line.prefix(80))\" where the RDB's length was due")
        }
        let rest = line.dropFirst()
        if rest.hasPrefix("EOF:") {
            let mark = Array(rest.dropFirst(4).utf8)
            guard mark.count == Self.markLength else { throw violation("sent an RDB end mark of \(mark.count) bytes, not \(Self.markLength)") }
            heldBack = []
            state = .rdbMarked(mark: mark)
            events.append(.rdbStart(size: nil))
        } else if let size = Int(rest), size >= 0 {
            events.append(.rdbStart(size: size))
            state = .rdbSized(left: size)
            if size == 0 { finishRDB(&events) }
        } else {
            throw violation("sent \"\(line.prefix(80))\" where the RDB's length was due")
        }
    }

    /// Diskless: passes on RDB bytes up to the end mark, holding back a tail that could be
    /// its beginning.
    private mutating func markedBytes(_ buffer: inout ByteBuffer, mark: [UInt8], _ events: inout [ReplicaEvent]) {
        var window = heldBack
        let incoming = buffer.readableBytes
        window.append(contentsOf: buffer.readableBytesView)
        if let at = Self.find(mark, in: window) {
            // The mark ends the RDB; bytes after it are the stream (not consumed here).
            let afterMark = at + mark.count
            let unconsumed = window.count - afterMark
            buffer.moveReaderIndex(forwardBy: incoming - unconsumed)
            if at > 0 { events.append(.rdbBytes(ByteBuffer(bytes: window[0..<at]))) }
            heldBack = []
            finishRDB(&events)
            return
        }
        buffer.moveReaderIndex(forwardBy: incoming)
        let keep = min(window.count, mark.count - 1)
        if window.count > keep { events.append(.rdbBytes(ByteBuffer(bytes: window[0..<(window.count - keep)]))) }
        heldBack = Array(window[(window.count - keep)...])
    }

    private mutating func finishRDB(_ events: inout [ReplicaEvent]) {
        events.append(.rdbEnd)
        decoder = RESPDecoder(startOffset: offset)
        state = .streaming
    }

    /// The command stream: every complete message, with its offset and kind.
    private mutating func streamed(_ buffer: inout ByteBuffer, _ events: inout [ReplicaEvent]) throws(ReplicaLinkError) -> Bool {
        var progressed = false
        while true {
            let start = decoder.consumedBytes
            let token: RESPToken?
            do { token = try decoder.decode(&buffer) } catch {
                throw violation("sent bytes that are not RESP at replication offset \(error.offset): \(error.reason)")
            }
            guard let token else { return progressed }
            progressed = true
            offset = decoder.consumedBytes
            events.append(.command(ReplicaCommand(bytes: token.bytes, offset: start, kind: Self.kind(of: token))))
        }
    }

    /// PING and REPLCONF are the master's own traffic; everything else is data.
    static func kind(of token: RESPToken) -> ReplicaCommand.Kind {
        guard token.typeByte == UInt8(ascii: "*"), case .array(let words) = token.value,
              let name = words.first?.string?.uppercased() else { return .write }
        switch name {
        case "PING": return .ping
        case "REPLCONF": return .replconf(getAck: words.count > 1 && words[1].string?.uppercased() == "GETACK")
        default: return .write
        }
    }

    /// A line ending in `\n` (a trailing `\r` dropped), or nil when it is not complete.
    private func readLine(_ buffer: inout ByteBuffer) throws(ReplicaLinkError) -> String? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maxLineLength { throw violation("sent a line longer than \(Self.maxLineLength) bytes during the handshake") }
            return nil
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    private func refusal(_ command: String, _ line: String) -> ReplicaLinkError {
        let reply = String(line.dropFirst().prefix(200))
        let code = reply.split(separator: " ").first.map(String.init) ?? ""
        if ["LOADING", "NOMASTERLINK", "MASTERDOWN", "BUSY"].contains(code) {
            return ReplicaLinkError(.notReady, "\(master) cannot serve a replica now (\(command) answered \(reply)); retrying")
        }
        var advice = ""
        if command == "PSYNC" || command == "the full sync" {
            advice = ": the user needs the PSYNC and REPLCONF commands (ACL +psync +replconf) and they must not be renamed (rename-command)"
        } else if command == "AUTH" {
            advice = ": check the user and password of the connection"
        }
        return ReplicaLinkError(.refused, "\(master) refused \(command) for a replica link: \(reply)\(advice)")
    }

    private func violation(_ what: String) -> ReplicaLinkError {
        ReplicaLinkError(.protocolViolation, "\(master) \(what)")
    }

    /// The first index of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
