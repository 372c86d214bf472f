import AOF
import Foundation
import NIOCore
import Testing

@testable import Operations

/// The batches a replay into a connection sends (plain commands copied straight from the
/// chunk, transactions through the cursor) hold exactly the commands the cursor hands out
/// one by one, with the same outcome.
@Suite struct RestoreFastPathTests {
    @Test func batchesEqualTheEntryByEntryReplay() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        try a.stream(1, opened: 100, chunks: [
            ("#TS:100\r\n" + aof("SET", "a", "1") + aof("SET", "b", "1"), 101),
            (aof("MULTI") + aof("SET", "t1", "1") + "#TS:101\r\n" + aof("SET", "t2", "1") + aof("EXEC") + aof("SET", "c", "1"), 102),
            ("#TS:102\r\n" + aof("SET", "d", "1") + aof("MULTI") + aof("SET", "u", "1"), 103),
            (aof("EXEC") + "#TS:103\r\n" + aof("SET", "e", "1"), 104),
        ])
        let targets: [ReplayTarget] = [.latest, .time(second: 100, inclusive: true), .time(second: 101, inclusive: true),
                                       .time(second: 102, inclusive: true), .time(second: 103, inclusive: false)]
        for target in targets {
            let plan = try RestorePlan.make(try a.index, target: target)
            let slow = ReplayCursor(plan)
            var expected = ByteBuffer()
            while let e = try slow.next() {
                if e.entry.isCommand { var b = e.entry.bytes; expected.writeBuffer(&b) }
            }
            for window in [1, 2, 3, 100] {
                let fast = ReplayCursor(plan)
                var sent = ByteBuffer()
                var count = 0
                while true {
                    var batch = try ConnectionReplay.fill(fast, window: window)
                    if batch.count == 0 { break }
                    #expect(batch.positions.count == batch.count)
                    count += batch.count
                    sent.writeBuffer(&batch.bytes)
                }
                #expect(sent == expected, "\(target), window \(window)")
                #expect(count == slow.outcome.commands)
                #expect(fast.outcome.commands == slow.outcome.commands && fast.outcome.bytes == slow.outcome.bytes)
                #expect(fast.outcome.firstTimestamp == slow.outcome.firstTimestamp && fast.outcome.lastTimestamp == slow.outcome.lastTimestamp)
                #expect(fast.outcome.transactions == slow.outcome.transactions && fast.outcome.rolledBack == slow.outcome.rolledBack)
                #expect(fast.outcome.stoppedAt == slow.outcome.stoppedAt)
            }
        }
    }
}

/// Runs of plain SETs merged into MSETs: the MSETs, expanded back, are exactly the SETs
/// the cursor hands out; each holds at most 1,000 SETs and 64 KB of arguments; anything
/// else (SET with options, another command, a transaction) is sent as archived.
@Suite struct SetRunMergerTests {
    /// The commands of a RESP byte stream, as argument lists.
    static func commands(_ bytes: ByteBuffer) throws -> [[String]] {
        let raw = Array(bytes.readableBytesView)
        var i = 0
        /// The number after a `*` or `$` at `i`, moving past its line.
        func number() throws -> Int {
            var j = i + 1
            while raw[j] != UInt8(ascii: "\r") { j += 1 }
            let value = try #require(Int(String(decoding: raw[(i + 1)..<j], as: UTF8.self)))
            i = j + 2
            return value
        }
        var result: [[String]] = []
        while i < raw.count {
            let count = try number()
            var args: [String] = []
            for _ in 0..<count {
                let length = try number()
                args.append(String(decoding: raw[i..<(i + length)], as: UTF8.self))
                i += length + 2
            }
            result.append(args)
        }
        return result
    }

    @Test func mergedRunsExpandToTheArchivedSETsWithinTheirBounds() throws {
        let a = try SyntheticArchive()
        try a.generation(1, base: aof("SET", "base", "1"), firstStream: 1, asOf: 100)
        let big = String(repeating: "b", count: 40_000)
        var first = "#TS:100\r\n"
        for i in 0..<2_500 { first += aof("SET", "k:\(i)", "v") }
        first += aof("set", "lower", "1") + aof("SET", "opt", "1", "EX", "10") + aof("SET", "a", "1") + aof("APPEND", "a", "2")
        first += aof("SET", "big:1", big) + aof("SET", "big:2", big) + aof("SET", "big:3", big)
        first += aof("MULTI") + aof("SET", "t:1", "1") + aof("SET", "t:2", "1") + aof("EXEC") + aof("SET", "after", "1")
        try a.stream(1, opened: 100, chunks: [(first, 101), ("#TS:101\r\n" + aof("SET", "x", "1") + aof("SET", "y", "1"), 102)])
        let plan = try RestorePlan.make(try a.index, target: .latest)
        let slow = ReplayCursor(plan)
        var expected: [[String]] = []
        while let e = try slow.next() {
            if e.entry.isCommand { expected.append(e.entry.arguments.map { String(buffer: $0) }) }
        }
        for window in [8, 400, 50_000] {
            let cursor = ReplayCursor(plan)
            let merger = SetRunMerger()
            var sent: [[String]] = []
            var msets = 0
            while true {
                let batch = try ConnectionReplay.fill(cursor, window: window, merger: merger)
                if batch.count == 0 { break }
                let commands = try Self.commands(batch.bytes)
                #expect(commands.count == batch.count && batch.positions.count == batch.count)
                for (i, command) in commands.enumerated() {
                    guard command[0] == "MSET" else {
                        #expect(batch.merged[i] == nil)
                        sent.append(command)
                        continue
                    }
                    msets += 1
                    let pairs = (command.count - 1) / 2
                    #expect(batch.merged[i] == pairs && pairs >= 2 && pairs <= SetRunMerger.maxSets && pairs <= window)
                    #expect(command.dropFirst().reduce(0) { $0 + $1.utf8.count } <= SetRunMerger.maxBytes)
                    for p in 0..<pairs { sent.append(["SET", command[1 + 2 * p], command[2 + 2 * p]]) }
                }
            }
            // Case aside (the merged "set" becomes part of an MSET), the same commands in order.
            #expect(sent.map { [$0[0].uppercased()] + $0.dropFirst() } == expected.map { [$0[0].uppercased()] + $0.dropFirst() }, "window \(window)")
            #expect(cursor.outcome.commands == slow.outcome.commands)
            #expect(merger.setsSentAsMSET > 2_000 && msets >= 3, "window \(window): \(merger.setsSentAsMSET) SETs in \(msets) MSETs")
        }
    }
}
