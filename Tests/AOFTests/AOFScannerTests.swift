import NIOCore
import Testing

@testable import AOF

/// The AOF scanner on bytes the tests make: every entry kind with its offset, any split of
/// the input, malformed input with the right offsets, and random bytes.
@Suite struct AOFScannerTests {
    /// `*N\r\n$len\r\narg\r\n...` as Redis writes a command into its AOF.
    static func command(_ words: String...) -> [UInt8] { command(words) }
    static func command(_ words: [String]) -> [UInt8] {
        var out = Array("*\(words.count)\r\n".utf8)
        for w in words { out += Array("$\(w.utf8.count)\r\n".utf8) + Array(w.utf8) + [0x0D, 0x0A] }
        return out
    }

    /// Scans `bytes` fed in pieces of `step` bytes; returns the entries and the leftover.
    static func scan(_ bytes: [UInt8], step: Int = Int.max, start: Int = 0) throws -> ([AOFEntry], Int) {
        var scanner = AOFScanner(startOffset: start)
        var buffer = ByteBuffer()
        var entries: [AOFEntry] = []
        var fed = 0
        while fed < bytes.count {
            let end = min(bytes.count, fed &+ step)
            buffer.writeBytes(bytes[fed..<end])
            fed = end
            while let entry = try scanner.next(&buffer) { entries.append(entry) }
        }
        return (entries, scanner.pendingBytes(buffer))
    }

    @Test func commandsAndAnnotationsWithOffsets() throws {
        let set = Self.command("SET", "k", "v")
        let ts = Array("#TS:1700000000\r\n".utf8)
        let note = Array("# a comment\n".utf8)
        let multi = Self.command("multi")
        let incr = Self.command("INCR", "n")
        let exec = Self.command("EXEC")
        let all = set + ts + note + multi + incr + exec
        let (entries, left) = try Self.scan(all, start: 1000)
        #expect(left == 0)
        #expect(entries.count == 6)
        let sizes = [set.count, ts.count, note.count, multi.count, incr.count, exec.count]
        var expected: [Int] = []
        var position = 1000
        for size in sizes { expected.append(position); position += size }
        #expect(entries.map(\.offset) == expected)
        #expect(entries[0].name == "SET" && entries[0].argumentCount == 3)
        #expect(entries[0].argument(1) == "k" && entries[0].argument(2) == "v")
        #expect(entries[1].kind == .timestamp(1_700_000_000))
        #expect(entries[2].kind == .annotation)
        #expect(entries[3].hasName("MULTI") && entries[3].name == "MULTI")
        #expect(!entries[4].hasName("MULTI") && entries[4].hasName("INCR"))
        #expect(Array(entries[0].bytes.readableBytesView) == set)
        #expect(entries.last!.endOffset == 1000 + all.count)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func anySplitGivesTheSameEntries(step: Int) throws {
        var all: [UInt8] = []
        for i in 0..<50 {
            if i % 7 == 0 { all += Array("#TS:\(1_700_000_000 + i)\r\n".utf8) }
            all += Self.command("RPUSH", "list:\(i)", String(repeating: "x", count: i * 3), "\r\n inside")
        }
        let whole = try Self.scan(all)
        let split = try Self.scan(all, step: step)
        #expect(whole.1 == 0 && split.1 == 0)
        #expect(whole.0.map(\.offset) == split.0.map(\.offset))
        #expect(whole.0.map { Array($0.bytes.readableBytesView) } == split.0.map { Array($0.bytes.readableBytesView) })
        #expect(split.0.compactMap { $0.isCommand ? $0.argument(3) : nil }.allSatisfy { $0 == "\r\n inside" })
    }

    @Test func binaryValuesAndEmptyArguments() throws {
        var bytes = Array("*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\n".utf8) + [0, 0x0D, 0x0A, 0xFF] + [0x0D, 0x0A]
        bytes += Self.command("PING")
        let (entries, left) = try Self.scan(bytes)
        #expect(left == 0 && entries.count == 2)
        #expect(entries[0].arguments.map(\.readableBytes) == [3, 0, 4])
        #expect(Array(entries[0].arguments[2].readableBytesView) == [0, 0x0D, 0x0A, 0xFF])
    }

    @Test func truncatedTailIsPendingNotAnError() throws {
        let whole = Self.command("SET", "key", "value") + Self.command("SET", "key2", "value2")
        for cut in 1..<(whole.count - 1) where cut != Self.command("SET", "key", "value").count {
            let (entries, left) = try Self.scan(Array(whole[0..<cut]))
            let first = Self.command("SET", "key", "value").count
            #expect(entries.count == (cut >= first ? 1 : 0))
            #expect(left == (cut >= first ? cut - first : cut))
        }
    }

    @Test(arguments: [
        ("+OK\r\n", 0, "expected '*'"),
        ("*2\r\n$3\r\nGET\r\n:1\r\n", 13, "expected '$'"),
        ("*1\r\n$3\r\nGETX\r\n", 11, "not followed by \\r\\n"),
        ("*x\r\n", 1, "bad argument count"),
        ("*0\r\n", 1, "at least 1"),
        ("*-1\r\n", 1, "negative argument count"),
        ("*1\r\n$-1\r\n", 5, "negative bulk length"),
        ("*1\n", 2, "bad argument count"),
        ("*1\r\r", 3, "not followed by \\n"),
        ("*1\r\n$99999999999999999999\r\n", 5, "over the limit"),
        ("*\r\n", 1, "missing argument count"),
    ] as [(String, Int, String)])
    func malformedInputNamesTheOffset(input: String, offset: Int, reason: String) throws {
        let prefix = Self.command("PING")
        let bytes = prefix + Array(input.utf8)
        var thrown: AOFError?
        do { _ = try Self.scan(bytes, start: 10) } catch let error as AOFError { thrown = error }
        #expect(thrown?.kind == .malformed)
        #expect(thrown?.offset == 10 + prefix.count + offset, "\(String(describing: thrown))")
        #expect(thrown?.reason.contains(reason) == true, "\(String(describing: thrown))")
    }

    @Test func randomBytesNeverCrashOrHang() {
        var rng = SystemRandomNumberGenerator()
        var seed: UInt64 = 0x5EED_A0F0
        func next() -> UInt64 {
            seed &+= 0x9E37_79B9_7F4A_7C15
            var z = seed
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        _ = rng
        let alphabet = Array("*$#\r\n0123456789-TS:abc".utf8)
        let valid = Self.command("SET", "k", "v") + Array("#TS:17\r\n".utf8)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0: bytes = (0..<Int(next() % 40)).map { _ in UInt8(truncatingIfNeeded: next()) }
            case 1: bytes = (0..<Int(next() % 40)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            default:
                bytes = valid + valid
                for _ in 0..<Int(1 + next() % 3) { bytes[Int(next() % UInt64(bytes.count))] = alphabet[Int(next() % UInt64(alphabet.count))] }
            }
            do {
                let (entries, left) = try Self.scan(bytes, step: Int(1 + next() % 8))
                let covered = entries.reduce(0) { $0 + $1.length }
                #expect(covered + left == bytes.count, "round \(round)")
            } catch let error as AOFError {
                #expect(error.offset.map { $0 >= 0 && $0 <= bytes.count } == true, "round \(round): \(error)")
            } catch {
                Issue.record("round \(round): unexpected \(error)")
            }
        }
    }
}
