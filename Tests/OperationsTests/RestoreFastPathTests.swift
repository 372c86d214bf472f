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
