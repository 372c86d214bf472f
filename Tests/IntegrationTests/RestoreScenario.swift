import Foundation
import Operations
import RESP
import RedisClient

/// A known sequence of writes over several seconds on a real server, collected into an
/// archive as it goes, with the server's full contents recorded at the end of each
/// second: the expected result of a restore to that second.
struct RestoreScenario {
    /// The archive folder.
    let archive: String
    /// Contents at the end of each second written in.
    var expected: [Int64: [String: String]] = [:]
    /// The seconds, in order.
    var seconds: [Int64] = []
    /// When each second's writes began and ended (wall time): the contents are
    /// `expected[second]` from the end until the next second's writes begin.
    var writesBegan: [Int64: Double] = [:]
    var writesEnded: [Int64: Double] = [:]
    /// The second in which a rewrite ran among the writes.
    var rewriteSecond: Int64 = 0
    /// The second with the FLUSHALL, and the contents just before it.
    var flushSecond: Int64 = 0
    var beforeFlush: [String: String] = [:]
    /// Contents just before the MULTI of the transaction written in `transactionSecond`.
    var transactionSecond: Int64 = 0
    var beforeTransaction: [String: String] = [:]

    /// Runs the writer on a fresh server in `lab` (with or without #TS annotations).
    static func run(in lab: Lab, name: String, timestamps: Bool, steps: Int = 7) async throws -> RestoreScenario {
        let server = try await lab.start(name, LocalServerOptions(appendOnly: true, aofTimestamps: timestamps,
                                                                  config: [("aof-disable-auto-gc", "yes"), ("appendfsync", "always")]))
        let archive = try restoreTemporaryFolder("archive", in: lab)
        let builder = try RestoreArchiveBuilder(root: archive, serverDirectory: server.directory)
        try builder.collect()
        return try await write(on: server, archive: archive, steps: steps) { try builder.collect() }
    }

    /// Runs the writer on `server`; `collect` runs in the quiet part of each second (a
    /// stand-in collector copies then; the real one runs on its own and needs nothing).
    static func write(on server: LocalServer, archive: String, steps: Int, collect: () throws -> Void) async throws -> RestoreScenario {
        let c = try await RedisConnection.connect(server.connectionConfiguration)
        var scenario = RestoreScenario(archive: archive)
        // Start in a fresh second, after the first base.
        try await Task.sleep(for: .milliseconds(1100))
        for step in 0..<steps {
            try await sleepUntilFraction(0.1)
            let second = currentSecond()
            scenario.writesBegan[second] = Date().timeIntervalSince1970
            func write(_ command: RESPCommand) async throws { _ = try await c.send(command) }
            try await write(["SET", .string("s:\(step)"), .string("value \(step)\r\nwith a newline")])
            try await write(["INCR", "counter"])
            try await write(["LPUSH", "list", .string("item \(step)")])
            try await write(["HSET", "hash", .string("f\(step)"), .string("\(step)"), "last", .string("\(step)")])
            try await write(["SADD", "set", .string("m\(step % 3)")])
            try await write(["ZADD", "zset", .string("\(step)"), .string("z\(step)")])
            try await write(["SET", .string("ttl:\(step)"), "x", "EX", "1000"])
            if step > 0 { try await write(["DEL", .string("s:\(step - 1)")]) }
            try await write(["SELECT", "1"])
            try await write(["SET", .string("db1:\(step)"), .string("\(step)")])
            try await write(["SELECT", "0"])
            if step == 2 {
                scenario.rewriteSecond = second
                try await write(["BGREWRITEAOF"])
                for i in 0..<20 { try await write(["SET", .string("during-rewrite:\(i)"), .string("\(step)")]) }
            }
            if step == 3 {
                scenario.transactionSecond = second
                scenario.beforeTransaction = try await restoreContents(c)
            }
            _ = try await c.pipeline([["MULTI"], ["INCRBY", "counter", "100"], ["SET", .string("tx:\(step)"), "done"], ["EXEC"]])
            if step == 4 {
                scenario.flushSecond = second
                scenario.beforeFlush = try await restoreContents(c)
                try await write(["FLUSHALL"])
                try await write(["SET", "after-flush", .string("\(step)")])
            }
            if step == 5 { try await write(["BGREWRITEAOF"]) }
            scenario.writesEnded[second] = Date().timeIntervalSince1970
            guard currentSecond() == second else { throw LabError("the writes of step \(step) crossed a second boundary; the machine is too slow for this test") }
            try await sleepUntilFraction(0.8)
            scenario.expected[second] = try await restoreContents(c)
            scenario.seconds.append(second)
            try collect()
        }
        try await Task.sleep(for: .milliseconds(300))
        try collect()
        await c.close()
        return scenario
    }
}
