import ArgumentParser
import NIOCore
import RESP
import RedisClient

/// RESP decoding throughput on a large buffer of mixed replies and commands: framing and
/// validation (what the client and the AOF reader do for every byte), and building values.
struct RESPDecodeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resp", abstract: "RESP decoder throughput (goal: >= 1 GB/s framing).")

    @Option(help: "Size of the buffer, in MB.") var megabytes = 50
    @Option(help: "Rounds; medians are reported.") var rounds = 5

    mutating func run() async throws {
        let buffer = Self.mixedStream(bytes: megabytes * 1_000_000)
        let size = Double(buffer.readableBytes)
        print("RESP decoding: \(grouped(size / 1e6)) MB of mixed commands and RESP2/RESP3 replies, \(rounds) rounds (median)")

        var batch: [Double] = [], batchWall: [Double] = [], single: [Double] = [], chunked: [Double] = [], values: [Double] = []
        var messages = 0
        for _ in 0..<rounds {
            let cpuBefore = threadCPUSeconds()
            let (seconds, count) = try Self.time { try Self.frameAll(buffer) }
            batch.append(size / (threadCPUSeconds() - cpuBefore))
            batchWall.append(size / seconds)
            messages = count
            single.append(size / (try Self.time { try Self.frameOneByOne(buffer) }.0))
            chunked.append(size / (try Self.time { try Self.frameInReads(buffer, readSize: 64 * 1024) }.0))
            values.append(size / (try Self.time { try Self.materializeAll(buffer) }.0))
        }
        let gb = 1e9
        print("  messages: \(grouped(Double(messages)))")
        // Per CPU second: the machine is shared, and wall time would count the waits for a CPU.
        print("  framing + validation, decodeAll, whole buffer:  \(fixed(median(batch) / gb)) GB/s per CPU second  \(verdict(median(batch) / gb, goal: 1.0))  (wall clock: \(fixed(median(batchWall) / gb)) GB/s)")
        print("  framing + validation, decodeAll, 64 KB reads:   \(fixed(median(chunked) / gb)) GB/s")
        print("  framing + validation, decode() one at a time:   \(fixed(median(single) / gb)) GB/s")
        print("  framing + building RESPValue trees:             \(fixed(median(values) / gb)) GB/s")
    }

    static func time<T>(_ body: () throws -> T) throws -> (Double, T) {
        let clock = ContinuousClock()
        var result: T?
        let elapsed = try clock.measure { result = try body() }
        return (elapsed.inSeconds, result!)
    }

    static func frameAll(_ input: ByteBuffer) throws -> Int {
        var buffer = input
        var decoder = RESPDecoder()
        var bytes = 0
        let count = try decoder.decodeAll(&buffer) { bytes &+= $0.length }
        precondition(buffer.readableBytes == 0 && bytes == input.readableBytes, "benchmark stream did not decode completely")
        return count
    }

    static func frameOneByOne(_ input: ByteBuffer) throws -> Int {
        var buffer = input
        var decoder = RESPDecoder()
        var count = 0
        while let _ = try decoder.decode(&buffer) { count += 1 }
        precondition(buffer.readableBytes == 0, "benchmark stream did not decode completely")
        return count
    }

    static func frameInReads(_ input: ByteBuffer, readSize: Int) throws -> Int {
        var source = input
        var buffer = ByteBufferAllocator().buffer(capacity: readSize * 4)
        var decoder = RESPDecoder()
        var count = 0
        while source.readableBytes > 0 {
            var read = source.readSlice(length: min(readSize, source.readableBytes))!
            buffer.writeBuffer(&read)
            count += try decoder.decodeAll(&buffer) { _ in }
            buffer.discardReadBytes()
        }
        return count
    }

    static func materializeAll(_ input: ByteBuffer) throws -> Int {
        var buffer = input
        var decoder = RESPDecoder()
        var elements = 0
        try decoder.decodeAll(&buffer) { token in
            switch token.value {
            case .array(let a): elements += a.count
            case .map(let m): elements += m.count
            default: elements += 1
            }
        }
        return elements
    }

    /// A deterministic mix of what a client reads and what an AOF holds.
    static func mixedStream(bytes: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes + 4096)
        var i = 0
        let value32 = String(repeating: "v", count: 32)
        while buffer.readableBytes < bytes {
            switch i % 8 {
            case 0: buffer.writeRESPCommand(RESPCommand("SET", "key:\(100_000_000 + i)", value32))
            case 1: buffer.writeRESPValue(.simple("OK"))
            case 2: buffer.writeRESPValue(.bulk(value32))
            case 3: buffer.writeRESPValue(.integer(Int64(i)))
            case 4: buffer.writeRESPValue(.array((0..<10).map { .bulk("item:\($0):\(i)") }))
            case 5: buffer.writeRESPValue(.map((0..<4).map { RESPPair(key: .bulk("field\($0)"), value: .bulk("value:\(i)")) }))
            case 6: buffer.writeRESPCommand(RESPCommand("ZADD", "market:", "97", "Item\(i).17"))
            default: buffer.writeRESP2Null()
            }
            i += 1
        }
        return buffer
    }
}
