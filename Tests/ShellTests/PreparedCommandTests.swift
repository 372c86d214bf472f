import NIOCore
import RESP
import Testing

@testable import Shell

/// A statement's words become the exact bytes RESPCommand would send, and what the
/// evaluator asks of a command is read back from them.
@Suite struct PreparedCommandTests {
    @Test func literalWordsEncodeAsTheCommandWould() throws {
        let statements = try parse("set 'user:1' \"a b\\x00\" '' café").get()
        let prepared = PreparedCommand(literal: statements[0].words[...])
        var expected = ByteBuffer()
        expected.writeRESPCommand(RESPCommand([.string("set"), .string("user:1"), .bytes(ByteBuffer(bytes: Array("a b".utf8) + [0])),
                                               .string(""), .string("café")]))
        #expect(prepared.encoded == expected)
        #expect(prepared.name == "SET")
        #expect(prepared.hasName("SET") && !prepared.hasName("SE") && !prepared.hasName("SETNX"))
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
