import NIOCore
import RESP
import Testing

@testable import RedisClient

/// The channel handler's state machine on its own: which request or consumer each reply
/// goes to, in each state, with no channel and no server.
@Suite struct StateMachineTests {
    typealias Machine = RedisChannelHandler.StateMachine
    static let endpoint = RedisEndpoint.tcp(host: "127.0.0.1", port: 6399)

    /// Routes every message in `text` through `machine`, as one read.
    @discardableResult
    static func feed(_ machine: inout Machine, _ text: String) -> [Machine.Delivery] {
        var buffer = ByteBuffer(string: text)
        var decoder = RESPDecoder()
        var deliveries: [Machine.Delivery] = []
        machine.receiving { route in
            _ = try? decoder.decodeAll(&buffer) { deliveries.append(route($0)) }
        }
        return deliveries
    }

    static func request(_ name: RESPArgument, expected: Int = 1, sink: PendingRequest.Sink) -> PendingRequest {
        PendingRequest(subject: .command(name), expected: expected, deadline: nil, sink: sink)
    }

    @Test func replyGoesToTheRequestWaiting() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let value: RESPValue = try await withCheckedThrowingContinuation { c in
            #expect(machine.enqueue(Self.request("GET", sink: .one(c))) == nil)
            #expect(machine.head?.label == "GET")
            Self.feed(&machine, "$5\r\nhello\r\n")
        }
        #expect(value == .bulk("hello"))
        #expect(machine.head == nil)
    }

    @Test func errorReplyIsAValue() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let value: RESPValue = try await withCheckedThrowingContinuation { c in
            _ = machine.enqueue(Self.request("INCR", sink: .one(c)))
            Self.feed(&machine, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        }
        #expect(value.errorMessage?.hasPrefix("WRONGTYPE") == true)
    }

    @Test func pipelineCollectsItsRepliesInOrder() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let values: [RESPValue] = try await withCheckedThrowingContinuation { c in
            _ = machine.enqueue(PendingRequest(subject: .pipeline(count: 3), expected: 3, deadline: nil, sink: .many(c)))
            // Split across two reads: the request stays at the head between them.
            Self.feed(&machine, "+OK\r\n:7\r\n")
            #expect(machine.head?.label == "a pipeline of 3 commands")
            Self.feed(&machine, "$-1\r\n")
        }
        #expect(values == [.simple("OK"), .integer(7), .null])
    }

    @Test func pushWhileAReplyIsPendingGoesToThePushConsumer() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let (pushes, consumer) = AsyncStream<RESPValue>.makeStream()
        machine.pushConsumer = consumer
        let value: RESPValue = try await withCheckedThrowingContinuation { c in
            _ = machine.enqueue(Self.request("GET", sink: .one(c)))
            Self.feed(&machine, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$1\r\nv\r\n")
        }
        #expect(value == .bulk("v"))
        var iterator = pushes.makeAsyncIterator()
        #expect(await iterator.next() == .push([.bulk("invalidate"), .array([.bulk("k")])]))
    }

    @Test func replyNobodyAskedForIsUnexpected() {
        var machine = Machine(endpoint: Self.endpoint)
        let deliveries = Self.feed(&machine, "+OK\r\n")
        guard case .unexpected(.simple("OK"))? = deliveries.first else {
            Issue.record("expected an unexpected reply, got \(deliveries)")
            return
        }
        // A RESP2 unsubscribe confirmation outside a stream is a message, not a broken connection.
        let confirmation = Self.feed(&machine, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n")
        guard case .delivered? = confirmation.first else {
            Issue.record("expected delivered, got \(confirmation)")
            return
        }
    }

    @Test func closeWithRequestsInFlightFailsThemAll() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let error = RedisClientError(.connectionClosed, "connection to \(Self.endpoint) was closed", endpoint: Self.endpoint)
        let failure = await #expect(throws: RedisClientError.self) {
            let _: RESPValue = try await withCheckedThrowingContinuation { c in
                _ = machine.enqueue(Self.request("BLPOP", sink: .one(c)))
                machine.closeRequested()
                #expect(machine.isClosing)
                // No new request once closing.
                #expect(machine.enqueue(Self.request("PING", sink: .unclaimed(ticket: 9)))?.kind == .connectionClosed)
                let failed = machine.fail(error)
                #expect(failed)
            }
        }
        #expect(failure?.command == "BLPOP")
        #expect(failure?.message == error.message)
        // Closed: the first failure is kept and every later request gets it.
        let failedAgain = machine.fail(RedisClientError(.timeout, "later"))
        #expect(!failedAgain)
        #expect(machine.enqueue(Self.request("PING", sink: .unclaimed(ticket: 10))) == error)
    }

    @Test func unclaimedReplyWaitsForItsClaim() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        #expect(machine.enqueue(Self.request("GET", sink: .unclaimed(ticket: 1))) == nil)
        #expect(machine.enqueue(Self.request("GET", sink: .unclaimed(ticket: 2))) == nil)
        // The first reply comes before anyone claims it; the second after.
        Self.feed(&machine, "$1\r\na\r\n")
        let first: RESPValue = try await withCheckedThrowingContinuation { machine.claim(1, $0) }
        #expect(first == .bulk("a"))
        let second: RESPValue = try await withCheckedThrowingContinuation { c in
            machine.claim(2, c)
            Self.feed(&machine, "$1\r\nb\r\n")
        }
        #expect(second == .bulk("b"))
        await #expect(throws: RedisClientError.self) {
            let _: RESPValue = try await withCheckedThrowingContinuation { machine.claim(3, $0) }
        }
    }

    @Test func subscriptionStreamsMessagesUntilTheLastUnsubscribe() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let (stream, consumer) = RedisMessageStream.makeStream()
        #expect(machine.startStreaming(.init(kind: .pubsub, id: 1, consumer: consumer)) == nil)
        // A second stream on the same connection is refused.
        let (_, other) = RedisMessageStream.makeStream()
        #expect(machine.startStreaming(.init(kind: .monitor, id: 2, consumer: other)) != nil)
        Self.feed(&machine, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n")
        // A PING sent meanwhile (RESP3: its reply is not a push) still reaches its caller.
        let pong: RESPValue = try await withCheckedThrowingContinuation { c in
            _ = machine.enqueue(Self.request("PING", sink: .one(c)))
            Self.feed(&machine, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nbye\r\n+PONG\r\n")
        }
        #expect(pong == .simple("PONG"))
        #expect(machine.isStreaming(1))
        Self.feed(&machine, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n")
        #expect(!machine.isStreaming(1))
        var received: [RESPValue] = []
        for try await message in stream { received.append(message) }
        #expect(received.map { $0.elements?.first?.string } == ["subscribe", "message", "message", "unsubscribe"])
        #expect(received[2] == .push([.bulk("message"), .bulk("ch"), .bulk("bye")]))
    }

    @Test func monitorStreamsEveryLineAfterItsOK() async throws {
        var machine = Machine(endpoint: Self.endpoint)
        let (stream, consumer) = RedisMessageStream.makeStream()
        _ = machine.startStreaming(.init(kind: .monitor, id: 1, consumer: consumer))
        Self.feed(&machine, "+OK\r\n+1700000000.000001 [0 127.0.0.1:5000] \"SET\" \"k\" \"v\"\r\n")
        let failed = machine.fail(RedisClientError(.connectionClosed, "closed"))
        #expect(failed)
        var received: [RESPValue] = []
        let error = await #expect(throws: RedisClientError.self) {
            for try await line in stream { received.append(line) }
        }
        #expect(error?.message == "closed")
        #expect(received == [.simple("OK"), .simple("1700000000.000001 [0 127.0.0.1:5000] \"SET\" \"k\" \"v\"")])
    }

    @Test func commandKindsDecideTheWait() {
        #expect(CommandKind(["SET", "k", "v"]) == .plain)
        #expect(CommandKind(["blpop", "k", "0"]) == .blocking)
        #expect(CommandKind(["BZPOPMIN", "z", "33"]) == .blocking)
        #expect(CommandKind(["WAIT", "1", "0"]) == .blocking)
        #expect(CommandKind(["WAITAOF", "1", "0", "0"]) == .blocking)
        #expect(CommandKind(["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "$"]) == .blocking)
        #expect(CommandKind(["XREAD", "STREAMS", "block", "0"]) == .plain)
        #expect(CommandKind(["SUBSCRIBE", "ch"]) == .subscription)
        #expect(CommandKind(["punsubscribe"]) == .subscription)
        #expect(CommandKind(["MONITOR"]) == .monitor)
        var encoded = ByteBuffer()
        encoded.writeRESPCommand(["XREADGROUP", "GROUP", "g", "c", "BLOCK", "100", "STREAMS", "s", ">"])
        #expect(CommandKind(encodedCommand: encoded) == .blocking)
    }
}
