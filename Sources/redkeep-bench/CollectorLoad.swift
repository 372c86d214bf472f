import ArgumentParser
import Foundation
import RESP
import RedisClient

/// What the collector benchmarks share: their load and the `redkeep` they start.
enum CollectorLoad {
    /// 100 SETs of 1 KB every 10 ms (about 10 MB/s of AOF or replication stream) to the
    /// server of `configuration`, from this process, for `seconds`; the batches sent.
    static func start(_ configuration: RedisConnectionConfiguration, seconds: Int) -> Task<Int, any Error> {
        Task.detached { () throws -> Int in
            let connection = try await RedisConnection.connect(configuration)
            let value = String(repeating: "v", count: 1000)
            let commands = (0..<100).map { RESPCommand("SET", "key:\($0)", value) }
            let clock = ContinuousClock()
            var next = clock.now
            var batches = 0
            let end = clock.now + .seconds(seconds)
            while clock.now < end {
                _ = try await connection.pipeline(commands)
                batches += 1
                next += .milliseconds(10)
                try await Task.sleep(until: next, clock: clock)
            }
            await connection.close()
            return batches
        }
    }

    /// The `redkeep` built beside this benchmark.
    static func redkeep() throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let redkeep = (me as NSString).deletingLastPathComponent + "/redkeep"
        guard FileManager.default.isExecutableFile(atPath: redkeep) else {
            throw ValidationError("\(redkeep) is missing: swift build -c release --product redkeep")
        }
        return redkeep
    }
}
