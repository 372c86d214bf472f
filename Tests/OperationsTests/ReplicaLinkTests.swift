import NIOCore
import NIOEmbedded
import RESP
import Testing

@testable import Operations

/// The replica side of the replication protocol, fed by hand on a testing channel: the
/// handshake, both RDB framings, `+CONTINUE`, and the stream with the master's own
/// traffic told apart from the data and GETACK answered with the durable offset.
@Suite struct ReplicaLinkTests {
    static func command(_ words: String...) -> String {
        var out = "*\(words.count)\r\n"
        for w in words { out += "$\(w.utf8.count)\r\n\(w)\r\n" }
        return out
    }

    /// A channel whose handler collects the events and the failure. Unchecked: the
    /// handler writes it on the testing loop, and the test reads it only after awaiting
    /// the write that caused the events.
    final class Harness: @unchecked Sendable {
        let channel = NIOAsyncTestingChannel()
        var events: [ReplicaEvent] = []
        var failure: (any Error)?
        let acknowledgement = ReplicaAcknowledgement()
        let reads = ReadCounter()

        init(password: String? = nil, resume: (replicationId: String, offset: Int)? = nil, flow: ReplicaFlow = ReplicaFlow()) async throws {
            let (bytes, pending, psync) = ReplicaProtocol.handshake(user: password == nil ? nil : "collector", password: password,
                                                             listeningPort: 0, resume: resume)
            let acknowledgement = self.acknowledgement
            try await channel.eventLoop.submit { [unowned self] in
                try self.channel.pipeline.syncOperations.addHandler(self.reads)
                let handler = ReplicaLinkHandler(
                    protocolState: ReplicaProtocol(master: "test:6379", pending: pending, psync: psync, continuingAt: resume?.offset),
                    handshake: bytes, acknowledgement: acknowledgement, flow: flow, ackInterval: .hours(1),
                    deliver: { [unowned self] in self.events += $0 }, fail: { [unowned self] in self.failure = $0 })
                try self.channel.pipeline.syncOperations.addHandler(handler)
            }.get()
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379))
        }

        func send(_ text: String) async throws { try await channel.writeInbound(ByteBuffer(string: text)) }
        func send(_ bytes: [UInt8]) async throws { try await channel.writeInbound(ByteBuffer(bytes: bytes)) }

        /// Everything the handler wrote, as text.
        func written() async throws -> String {
            var out = ""
            while let buffer = try await channel.readOutbound(as: ByteBuffer.self) { out += String(buffer: buffer) }
            return out
        }

        var rdb: [UInt8] {
            events.flatMap { event -> [UInt8] in
                if case .rdbBytes(let b) = event { return Array(b.readableBytesView) }
                return []
            }
        }

        var commands: [ReplicaCommand] {
            events.compactMap { event in
                if case .command(let c) = event { return c }
                return nil
            }
        }
    }

    @Test func handshakeIsWhatAReplicaSends() async throws {
        let h = try await Harness(password: "s3cret")
        #expect(try await h.written() == Self.command("AUTH", "collector", "s3cret") + Self.command("REPLCONF", "listening-port", "0")
            + Self.command("REPLCONF", "capa", "eof", "capa", "psync2"))
        // PSYNC only once every reply is in: Redis refuses it with replies pending.
        try await h.send("+OK\r\n+OK\r\n")
        #expect(try await h.written() == "")
        try await h.send("+OK\r\n")
        #expect(try await h.written() == Self.command("PSYNC", "?", "-1"))
        let resumed = try await Harness(resume: (String(repeating: "a", count: 40), 1001))
        try await resumed.send("+OK\r\n+OK\r\n")
        #expect(try await resumed.written().hasSuffix(Self.command("PSYNC", String(repeating: "a", count: 40), "1002")))
    }

    @Test func fullSyncWithSizedRDBThenStream() async throws {
        let h = try await Harness()
        _ = try await h.written()
        let rdb = Array("REDIS0010 pretend rdb bytes\r\n$EOF".utf8)
        try await h.send("+OK\r\n+OK\r\n+FULLRESYNC 0123456789012345678901234567890123456789 500\r\n\n\n")
        try await h.send("$\(rdb.count)\r\n")
        try await h.send(Array(rdb[0..<7]))
        let set = Self.command("SET", "k", "v")
        // The rest of the RDB and the stream's start in one read.
        try await h.send(Array(rdb[7...]) + Array((Self.command("SELECT", "0") + set).utf8))
        #expect(h.failure == nil)
        #expect(h.events.first == .fullResync(replicationId: "0123456789012345678901234567890123456789", offset: 500))
        #expect(h.events.contains(.rdbStart(size: rdb.count)))
        #expect(h.rdb == rdb)
        let commands = h.commands
        #expect(commands.map(\.offset) == [500, 500 + Self.command("SELECT", "0").utf8.count])
        #expect(commands.allSatisfy { $0.kind == .write })
        #expect(String(buffer: commands[1].bytes) == set)
        // The end of the RDB is acknowledged at once (a diskless master waits for it).
        #expect(try await h.written() == Self.command("PSYNC", "?", "-1") + Self.command("REPLCONF", "ACK", "0"))
    }

    @Test func disklessRDBEndsAtItsMarkWhateverTheReads() async throws {
        let mark = String(repeating: "m", count: 39) + "z"
        let rdb = Array("REDIS0010 diskless mmmmmmmmm payload".utf8)
        let stream = Self.command("INCR", "n")
        let all = Array("+OK\r\n+OK\r\n+FULLRESYNC 0123456789012345678901234567890123456789 7\r\n\n$EOF:\(mark)\r\n".utf8)
            + rdb + Array(mark.utf8) + Array(stream.utf8)
        // Every split point, byte by byte, ends the RDB at the same place.
        for split in 1..<all.count {
            let h = try await Harness()
            try await h.send(Array(all[..<split]))
            try await h.send(Array(all[split...]))
            #expect(h.failure == nil)
            #expect(h.events.contains(.rdbStart(size: nil)))
            #expect(h.rdb == rdb, "split at \(split)")
            #expect(h.commands.map { String(buffer: $0.bytes) } == [stream])
            #expect(h.commands.first?.offset == 7)
        }
    }

    /// Counts the reads that reach the socket (the head of the pipeline).
    final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        private(set) var count = 0
        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    @Test func readsStopWhileTheArchiverIsBehindAndResumeWhenItTakes() async throws {
        let flow = ReplicaFlow(limit: 100)
        let h = try await Harness(resume: ("0123456789012345678901234567890123456789", 0), flow: flow)
        func read() async throws { try await h.channel.eventLoop.submit { h.channel.read() }.get() }
        try await h.send("+OK\r\n+OK\r\n+CONTINUE\r\n" + Self.command("SET", "small", "1"))
        let before = h.reads.count
        try await read()
        #expect(h.reads.count == before + 1 && flow.held < 100)
        let big = Self.command("SET", "big", String(repeating: "x", count: 120))
        try await h.send(big)
        #expect(flow.held >= 100 && flow.peak == flow.held)
        try await read()
        #expect(h.reads.count == before + 1, "a read went out while the archiver held more than the limit")
        // The archiver takes the small command: still full.
        #expect(!flow.release(Self.command("SET", "small", "1").utf8.count))
        try await read()
        #expect(h.reads.count == before + 1)
        // It takes the big one: room again.
        #expect(flow.release(big.utf8.count))
        try await read()
        #expect(h.reads.count == before + 2 && flow.held == 0)
    }

    @Test func continueStreamsFromTheOffsetAsked() async throws {
        let h = try await Harness(resume: ("0123456789012345678901234567890123456789", 1234))
        try await h.send("+OK\r\n+OK\r\n+CONTINUE 9999999999999999999999999999999999999999\r\n" + Self.command("DEL", "x"))
        #expect(h.events.first == .continued(newReplicationId: "9999999999999999999999999999999999999999"))
        #expect(h.commands.map(\.offset) == [1234])
        #expect(!h.events.contains { if case .rdbStart = $0 { true } else { false } })
    }

    @Test func pingAndGetAckAreTheMastersOwnAndGetAckIsAnswered() async throws {
        let h = try await Harness()
        try await h.send("+OK\r\n+OK\r\n+FULLRESYNC 0123456789012345678901234567890123456789 0\r\n$0\r\n")
        _ = try await h.written()
        let multi = Self.command("MULTI") + Self.command("SET", "a", "1") + Self.command("EXEC")
        h.acknowledgement.advance(to: 42)
        try await h.send(Self.command("PING") + multi + Self.command("REPLCONF", "GETACK", "*"))
        #expect(h.commands.map(\.kind) == [.ping, .write, .write, .write, .replconf(getAck: true)])
        #expect(try await h.written() == Self.command("REPLCONF", "ACK", "42"))
        let end = h.commands.last!.end
        #expect(end == (Self.command("PING") + multi + Self.command("REPLCONF", "GETACK", "*")).utf8.count)
        h.acknowledgement.advance(to: 10)  // never lowered
        #expect(h.acknowledgement.durableOffset == 42)
    }

    @Test func refusalsNameTheStepAndTheMaster() async throws {
        let h = try await Harness()
        try await h.send("+OK\r\n+OK\r\n-NOPERM this user has no permissions to run the 'psync' command\r\n")
        let error = try #require(h.failure as? ReplicaLinkError)
        #expect(error.kind == .refused)
        #expect(error.message.contains("test:6379 refused PSYNC"))
        #expect(error.message.contains("no permissions"))

        let auth = try await Harness(password: "wrong")
        try await auth.send("-WRONGPASS invalid username-password pair or user is disabled.\r\n")
        #expect((auth.failure as? ReplicaLinkError)?.message.contains("refused AUTH") == true)

        let loading = try await Harness()
        try await loading.send("+OK\r\n+OK\r\n-LOADING Redis is loading the dataset in memory\r\n")
        #expect((loading.failure as? ReplicaLinkError)?.kind == .notReady)
    }

    @Test func garbageWhereTheRDBLengthIsDueFails() async throws {
        let h = try await Harness()
        try await h.send("+OK\r\n+OK\r\n+FULLRESYNC 0123456789012345678901234567890123456789 0\r\nhello\r\n")
        let error = try #require(h.failure as? ReplicaLinkError)
        #expect(error.kind == .protocolViolation)
        #expect(error.message.contains("where the RDB's length was due"))
    }

    @Test func aClosedLinkDuringTheRDBSaysSo() async throws {
        let h = try await Harness()
        try await h.send("+OK\r\n+OK\r\n+FULLRESYNC 0123456789012345678901234567890123456789 0\r\n$100\r\nREDIS")
        try await h.channel.close()
        let error = try #require(h.failure as? ReplicaLinkError)
        #expect(error.message.contains("during the full sync's RDB transfer"))
        #expect(error.message.contains("client-output-buffer-limit"))
    }
}
