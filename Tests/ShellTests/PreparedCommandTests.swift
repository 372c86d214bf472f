import NIOCore
import RESP
import Testing

@testable import Shell

/// A statement's words become the exact bytes RESPCommand would send, and what the
/// evaluator asks of a command is read back from them.
@Suite struct PreparedCommandTests {
    @Test func literalWordsEncodeAsTheCommandWould() throws {
        let statements = try parse("set 'user:1' \"a b\\x00\" '' café").get()
        var buffer = ByteBuffer()
        let prepared = PreparedCommand(literal: statements[0].words[...], reusing: &buffer)
        var expected = ByteBuffer()
        expected.writeRESPCommand(RESPCommand([.string("set"), .string("user:1"), .bytes(ByteBuffer(bytes: Array("a b".utf8) + [0])),
                                               .string(""), .string("café")]))
        #expect(prepared.encoded == expected)
        #expect(prepared.name == "SET")
        #expect(prepared.hasName("SET") && !prepared.hasName("SE") && !prepared.hasName("SETNX"))
    }

    @Test func aReusedBufferLeavesEarlierCommandsAlone() throws {
        // A command still held (collected by pipeline { }, or not yet answered) keeps its
        // bytes when the next statement is encoded into the same buffer.
        let statements = try parse("SET a 1\nGET a\nINCR counter").get()
        var buffer = ByteBuffer()
        let held = statements.map { PreparedCommand(literal: $0.words[...], reusing: &buffer) }
        #expect(held.map(\.name) == ["SET", "GET", "INCR"])
        #expect(String(buffer: held[0].encoded) == "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n")
        #expect(String(buffer: held[1].encoded) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
    }

    @Test func transactionEffectIsReadFromTheName() {
        #expect(PreparedCommand("multi").transaction == .begins)
        #expect(PreparedCommand("Exec").transaction == .ends)
        #expect(PreparedCommand("DISCARD").transaction == .ends)
        #expect(PreparedCommand("MULTIX").transaction == .none)
        #expect(PreparedCommand("GET", "multi").transaction == .none)
    }

    @Test func nameIsFoundAfterLongHeaders() {
        // Ten words and a name of ten bytes: the header before the name grows by a digit each.
        let words = ["0123456789"] + (1..<10).map { String($0) }
        let prepared = PreparedCommand(words: words.map { Array($0.utf8) })
        #expect(prepared.name == "0123456789")
        #expect(prepared.hasName("0123456789"))
    }
}
