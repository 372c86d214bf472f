import AOF
import ArgumentParser
import Foundation
import Operations
import RedisClient

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

        // The machine is shared: wall time counts waits for a CPU, so each figure is also
        // given per CPU second (this thread's for in-process work, the child's for tools).
        let rssBefore = Self.memory("VmRSS")
        var scan: [Double] = [], scanWall: [Double] = []
        var entries = 0
        for _ in 0..<rounds {
            let cpu = Self.threadCPU()
            let (seconds, count) = try Self.time { try Self.scan(path) }
            scan.append(size / (Self.threadCPU() - cpu))
            scanWall.append(size / seconds)
            entries = count
        }
        let peakGrowth = Self.memory("VmHWM") - rssBefore
        let mb = 1e6
        print("  entries: \(grouped(Double(entries)))")
        print("  scanner (AOFFileReader, 1 MB blocks):  \(grouped(median(scan) / mb)) MB/s per CPU second  \(median(scan) / mb >= 500 ? "meets" : "BELOW") goal >= 500 MB/s  (wall clock: \(grouped(median(scanWall) / mb)) MB/s)")
        print("  peak RSS growth while scanning:        \(fixed(peakGrowth / mb, 1)) MB for a \(fixed(size / mb, 1)) MB file")

        guard !scanOnly else { return }
        var ours: [Double] = [], oursCPU: [Double] = [], binary: [Double] = [], binaryCPU: [Double] = []
        var theirs: [Double] = [], theirsCPU: [Double] = []
        let reference = ExternalCommand.find("redis-check-aof")
        // The redkeep executable beside this one (scripts/bench/run builds both), so the
        // comparison also holds with process start-up counted on both sides.
        let redkeep = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("redkeep").path
        let haveBinary = FileManager.default.isExecutableFile(atPath: redkeep)
        for _ in 0..<rounds {
            let cpu = Self.threadCPU()
            let (seconds, report) = try Self.time { try AOFCheck.check(path: path) }
            oursCPU.append(Self.threadCPU() - cpu)
            precondition(report.isValid, "the generated AOF must check clean: \(String(describing: report.problem))")
            ours.append(seconds)
            if haveBinary {
                let (wall, cpu) = try await Self.timeChild(redkeep, ["-c", "aof check \(path)"])
                binary.append(wall)
                binaryCPU.append(cpu)
            }
            if let reference {
                let (wall, cpu) = try await Self.timeChild(reference, [path])
                theirs.append(wall)
                theirsCPU.append(cpu)
            }
        }
        func line(_ label: String, _ wall: [Double], _ cpu: [Double]) {
            print("  \(label) \(fixed(median(wall) * 1000, 0)) ms wall, \(fixed(median(cpu) * 1000, 0)) ms CPU  (\(grouped(size / median(cpu) / mb)) MB per CPU second)")
        }
        line("aof check (in process):    ", ours, oursCPU)
        if haveBinary { line("redkeep -c 'aof check':    ", binary, binaryCPU) }
        if reference != nil {
            line("redis-check-aof:           ", theirs, theirsCPU)
            let ratio = median(theirsCPU) / median(oursCPU)
            print("  ratio of CPU time, redis-check-aof / aof check: \(fixed(ratio))  \(verdict(ratio, goal: 1.0))  (wall clock: \(fixed(median(theirs) / median(ours))))")
            if haveBinary {
                let whole = median(theirsCPU) / median(binaryCPU)
                print("  the same, both as processes (redis-check-aof / redkeep): \(fixed(whole))  \(verdict(whole, goal: 1.0))  (wall clock: \(fixed(median(theirs) / median(binary))))")
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
        _ = FileManager.default.createFile(atPath: path, contents: nil)
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
        return ((ContinuousClock.now - start).inSeconds, result)
    }

    /// CPU seconds this thread has used.
    static func threadCPU() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Runs a program to the end: wall seconds, and its CPU seconds (user + system, from
    /// the children's resource usage, which counts it once it has been waited for).
    static func timeChild(_ executable: String, _ arguments: [String]) async throws -> (Double, Double) {
        func childrenCPU() -> Double {
            var usage = rusage()
            getrusage(RUSAGE_CHILDREN.rawValue, &usage)
            return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        }
        let cpu = childrenCPU()
        let start = ContinuousClock.now
        let result = try await ExternalCommand.run(executable, arguments)
        precondition(result.succeeded, "\(executable) failed on the generated AOF: \(result.output)")
        return ((ContinuousClock.now - start).inSeconds, childrenCPU() - cpu)
    }

}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
