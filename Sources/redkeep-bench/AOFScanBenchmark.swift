import AOF
import ArgumentParser
import Foundation
import Operations

/// The AOF scanner and `aof check` on a generated 1,000,000-command AOF (about 50 MB):
/// scanner throughput (goal >= 500 MB/s) with its memory growth, and `aof check` beside
/// `redis-check-aof` on the same file in the same run (goal: no slower).
struct AOFScanBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "aof", abstract: "AOF scanner throughput and aof check vs redis-check-aof.")

    @Option(help: "Commands in the generated AOF.") var commands = 1_000_000
    @Option(help: "Rounds; medians are reported.") var rounds = 5
    @Flag(help: "Only the scanner (for profiling).") var scanOnly = false

    mutating func run() async throws {
        let folder = NSTemporaryDirectory() + "redkeep-bench-aof-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/appendonly.aof"
        let size = Double(try Self.generate(path, commands: commands))
        print("AOF scanning: \(grouped(Double(commands))) commands, \(fixed(size / 1e6, 1)) MB (#TS each 1,000 commands, a MULTI/EXEC each 10,000), \(rounds) rounds (median)")

        let rssBefore = Self.memory("VmRSS")
        var scan: [Double] = []
        var entries = 0
        for _ in 0..<rounds {
            let (seconds, count) = try Self.time { try Self.scan(path) }
            entries = count
            scan.append(size / seconds)
        }
        let peakGrowth = Self.memory("VmHWM") - rssBefore
        print("  entries: \(grouped(Double(entries)))")
        print("  scanner (AOFFileReader, 1 MB blocks):  \(grouped(median(scan) / 1e6)) MB/s  \(verdict(median(scan) / 1e6 / 500, goal: 1.0).replacingOccurrences(of: "1.00", with: "500 MB/s"))")
        print("  peak RSS growth while scanning:        \(fixed(peakGrowth / 1e6, 1)) MB for a \(fixed(size / 1e6, 1)) MB file")

        guard !scanOnly else { return }
        var ours: [Double] = [], binary: [Double] = [], theirs: [Double] = []
        let reference = ExternalCommand.find("redis-check-aof")
        // The redkeep executable beside this one (scripts/bench/run builds both), so the
        // comparison also holds with process start-up counted on both sides.
        let redkeep = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("redkeep").path
        let haveBinary = FileManager.default.isExecutableFile(atPath: redkeep)
        for _ in 0..<rounds {
            let (seconds, report) = try Self.time { try AOFCheck.check(path: path) }
            precondition(report.isValid, "the generated AOF must check clean: \(String(describing: report.problem))")
            ours.append(seconds)
            if haveBinary {
                let start = ContinuousClock.now
                let result = try await ExternalCommand.run(redkeep, ["-c", "aof check \(path)"])
                precondition(result.succeeded, "redkeep aof check failed on the generated AOF: \(result.output)")
                binary.append(Self.seconds(ContinuousClock.now - start))
            }
            if let reference {
                let start = ContinuousClock.now
                let result = try await ExternalCommand.run(reference, [path])
                precondition(result.succeeded, "redis-check-aof failed on the generated AOF: \(result.output)")
                theirs.append(Self.seconds(ContinuousClock.now - start))
            }
        }
        print("  aof check (in process):   \(fixed(median(ours) * 1000, 0)) ms  (\(grouped(size / median(ours) / 1e6)) MB/s)")
        if haveBinary {
            print("  redkeep -c 'aof check':   \(fixed(median(binary) * 1000, 0)) ms  (\(grouped(size / median(binary) / 1e6)) MB/s, process start included)")
        }
        if reference != nil {
            let ratio = median(theirs) / median(ours)
            print("  redis-check-aof:          \(fixed(median(theirs) * 1000, 0)) ms  (\(grouped(size / median(theirs) / 1e6)) MB/s)")
            print("  ratio (redis-check-aof time / aof check time): \(fixed(ratio))  \(verdict(ratio, goal: 1.0))")
            if haveBinary {
                let whole = median(theirs) / median(binary)
                print("  ratio, both as processes (redis-check-aof / redkeep): \(fixed(whole))  \(verdict(whole, goal: 1.0))")
            }
        } else {
            print("  redis-check-aof: not found on PATH, no comparison")
        }
    }

    /// Reads every entry of `path`; returns how many there were.
    static func scan(_ path: String) throws -> Int {
        let reader = try AOFFileReader(path: path)
        var n = 0
        while let entry = try reader.next() { n &+= entry.length > 0 ? 1 : 0 }
        try reader.requireCleanEnd()
        return n
    }

    /// Writes the AOF in 1 MB pieces (so generating it does not count as scanner memory).
    static func generate(_ path: String, commands: Int) throws -> Int {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(1 << 20)
        var total = 0
        func append(_ s: String) { chunk.append(contentsOf: s.utf8) }
        func command(_ words: [String]) {
            append("*\(words.count)\r\n")
            for w in words { append("$\(w.utf8.count)\r\n\(w)\r\n") }
        }
        var written = 0
        var second = 1_700_000_000
        while written < commands {
            if written % 1000 == 0 { append("#TS:\(second)\r\n"); second += 1 }
            if written % 10_000 == 5000 && commands - written >= 3 {
                command(["MULTI"]); command(["INCR", "counter"]); command(["EXEC"])
                written += 3
                continue
            }
            let key = "key:" + String(written % 10_000_000).leftPadded(7)
            command(["SET", key, "value-\(String(written % 1_000_000).leftPadded(6))"])
            written += 1
            if chunk.count >= 1 << 20 {
                try handle.write(contentsOf: chunk)
                total += chunk.count
                chunk.removeAll(keepingCapacity: true)
            }
        }
        try handle.write(contentsOf: chunk)
        return total + chunk.count
    }

    /// A field of /proc/self/status in bytes (0 where there is no /proc).
    static func memory(_ field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }

    static func time<T>(_ body: () throws -> T) throws -> (Double, T) {
        let start = ContinuousClock.now
        let result = try body()
        return (seconds(ContinuousClock.now - start), result)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
