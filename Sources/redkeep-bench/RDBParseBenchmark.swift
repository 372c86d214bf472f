import ArgumentParser
import Foundation
import Operations
import RDB
import RESP
import RedisClient

/// The RDB reader on a mixed-type RDB written by redis-server (goal >= 500 MB per CPU
/// second): strings from DEBUG POPULATE, lists, hashes, sets, sorted sets (both
/// encodings: big ones as hash tables and skip lists, small ones as listpacks and
/// intsets) and streams with a consumer group, made server-side by Lua, then SAVE.
/// Reading walks every value and keeps its exact bytes (what RESTORE needs) and checks
/// the CRC-64; decoding every value is measured apart, for information.
struct RDBParseBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rdb-parse", abstract: "RDB reader throughput on a mixed-type RDB.")

    @Option(help: "An existing RDB to read instead of generating one.") var path: String?
    @Option(help: "Strings made by DEBUG POPULATE (100-byte values).") var strings = 600_000
    @Option(help: "Elements of each collection type (lists, hashes, sets, sorted sets).") var elements = 600_000
    @Option(help: "Stream entries.") var streamEntries = 200_000
    @Option(help: "Rounds; medians are reported.") var rounds = 9

    mutating func run() async throws {
        if let path {
            try measure(path)
            return
        }
        let (strings, elements, streamEntries) = (self.strings, self.elements, self.streamEntries)
        let rounds = self.rounds
        try await withLab { lab in
            let server = try await lab.start("rdb-bench", LocalServerOptions(config: [("enable-debug-command", "local"), ("save", "")]))
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["DEBUG", "POPULATE", .string(String(strings)), "key", "100"])
            let script = """
                local n = tonumber(ARGV[1])
                for i = 1, n do
                  local big = i % 2 == 0
                  redis.call('RPUSH', 'list:' .. (i % 2000), 'element-' .. i)
                  if big then
                    redis.call('HSET', 'hash:' .. (i % 500), 'field-' .. i, 'value-' .. i)
                    redis.call('SADD', 'set:' .. (i % 2000), 'member-' .. i)
                    redis.call('ZADD', 'zset:' .. (i % 2000), i / 7, 'member-' .. i)
                  else
                    redis.call('HSET', 'hsmall:' .. (i % 50000), 'field-' .. i, 'value-' .. i)
                    redis.call('SADD', 'iset:' .. (i % 50000), i)
                    redis.call('ZADD', 'zsmall:' .. (i % 50000), i / 7, 'member-' .. i)
                  end
                end
                return n
                """
            _ = try await c.send(["EVAL", .string(script), "0", .string(String(elements))])
            let streams = """
                local n = tonumber(ARGV[1])
                for i = 1, n do
                  redis.call('XADD', 'stream:' .. (i % 100), '*', 'sensor', 'temp', 'value', tostring(i))
                end
                for s = 0, 99 do
                  redis.call('XGROUP', 'CREATE', 'stream:' .. s, 'g', '0')
                  redis.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '100', 'STREAMS', 'stream:' .. s, '>')
                end
                return n
                """
            _ = try await c.send(["EVAL", .string(streams), "0", .string(String(streamEntries))])
            _ = try await c.send(["SAVE"])
            await c.close()
            var bench = RDBParseBenchmark()
            bench.rounds = rounds
            try bench.measure(server.directory + "/dump.rdb")
        }
    }

    func measure(_ path: String) throws {
        let size = Double(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0)
        var parse: [Double] = [], parseWall: [Double] = [], decode: [Double] = [], summarize: [Double] = []
        var keys = 0, types: [String: Int] = [:]
        let rssBefore = AOFScanBenchmark.memory("VmRSS")
        for round in 0..<rounds {
            let cpu = AOFScanBenchmark.threadCPU()
            let (seconds, count) = try AOFScanBenchmark.time { () throws -> Int in
                let reader = try RDBReader(source: RDBFileSource(path: path))
                var n = 0
                while let entry = try reader.next() { if case .key = entry { n += 1 } }
                precondition(reader.checksum != nil)
                return n
            }
            parse.append(size / (AOFScanBenchmark.threadCPU() - cpu))
            parseWall.append(size / seconds)
            keys = count
            if round < 3 {
                let cpu = AOFScanBenchmark.threadCPU()
                let reader = try RDBReader(source: RDBFileSource(path: path))
                while let entry = try reader.next() {
                    if case .key(let key) = entry {
                        _ = try key.value()
                        if round == 0 { types[key.type.description, default: 0] += 1 }
                    }
                }
                decode.append(size / (AOFScanBenchmark.threadCPU() - cpu))
                let listing = AOFScanBenchmark.threadCPU()
                let lister = try RDBReader(source: RDBFileSource(path: path))
                while let entry = try lister.next() { if case .key(let key) = entry { _ = try key.summary() } }
                summarize.append(size / (AOFScanBenchmark.threadCPU() - listing))
            }
        }
        let peak = AOFScanBenchmark.memory("VmHWM") - rssBefore
        let mb = 1e6
        print("RDB parsing: \(path), \(fixed(size / mb, 1)) MB, \(grouped(Double(keys))) keys, \(rounds) rounds (median)")
        for (type, n) in types.sorted(by: { $0.key < $1.key }) { print("  \(type): \(grouped(Double(n))) keys") }
        print("  read (every value walked and copied, CRC-64 checked): \(grouped(median(parse) / mb)) MB per CPU second  \(median(parse) / mb >= 500 ? "meets" : "BELOW") goal >= 500  (wall clock: \(grouped(median(parseWall) / mb)) MB/s)")
        print("  read and summarize every key (type, count; 3 rounds): \(grouped(median(summarize) / mb)) MB per CPU second")
        print("  read and decode every value (3 rounds):               \(grouped(median(decode) / mb)) MB per CPU second")
        print("  peak RSS growth: \(fixed(peak / mb, 1)) MB")
    }
}
