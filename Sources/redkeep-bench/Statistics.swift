import ArgumentParser
import Demos
import Foundation
import Operations
#if canImport(Glibc)
import Glibc
#endif

/// The median of `values` (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// `12,345` with thousands separators.
func grouped(_ value: Double) -> String { BarChart.groupedDigits(value) }

/// The release `redkeep` beside this benchmark (or `override`), checked to exist.
func redkeepBinary(_ override: String?) throws -> String {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let binary = override ?? (me as NSString).deletingLastPathComponent + "/redkeep"
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw ValidationError("\(binary) is missing: swift build -c release --product redkeep")
    }
    return binary
}

/// `1.23` with two decimals.
func fixed(_ value: Double, _ decimals: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let fraction = text[text.index(after: dot)...]
        if fraction.count < decimals { text += String(repeating: "0", count: decimals - fraction.count) }
    } else if decimals > 0 {
        text += "." + String(repeating: "0", count: decimals)
    }
    return text
}

/// "PASS" or "BELOW GOAL" for a ratio against its goal.
func verdict(_ ratio: Double, goal: Double) -> String { ratio >= goal ? "meets goal >= \(fixed(goal))" : "BELOW goal >= \(fixed(goal))" }

/// Seconds of CPU this thread has used: on a shared, loaded machine a CPU-bound
/// measurement divided by this is what the code does per second it actually runs,
/// while wall time also counts waiting for a CPU.
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
