import ArgumentParser
import Foundation
import Operations
#if canImport(Glibc)
import Glibc
#endif

/// Where `s3-impact` puts each process. A deployment runs the collector on the Redis host
/// and the clients and the object store on other hosts; on one machine that is modelled
/// by CPU affinity: the "Redis host" CPU runs redis-server and the collector, the "remote"
/// CPU runs redis-benchmark, the object store (weed) and this benchmark process.
struct S3ImpactPinning: Sendable {
    /// The "Redis host" CPU and the "remote" CPU; nil when nothing is pinned.
    let cpus: (redisHost: Int, remote: Int)?
    /// Why nothing is pinned (asked for, or taskset missing), for the report.
    let unpinnedReason: String?

    /// `taskset -c CPU` in front of a command, or nothing when unpinned.
    func prefix(_ cpu: Int?) -> [String] {
        guard let cpu, cpus != nil else { return [] }
        return ["taskset", "-c", String(cpu)]
    }

    /// Pins every thread of the running process `pid` to `cpu` (threads started later
    /// inherit it from their creator).
    func pin(_ pid: Int32, to cpu: Int?, what: String) async throws {
        guard let cpu, cpus != nil else { return }
        let result = try await ExternalCommand.run("taskset", ["-a", "-p", "-c", String(cpu), String(pid)])
        guard result.succeeded else {
            throw ValidationError("taskset -a -p -c \(cpu) \(pid) (\(what)) failed: \(result.output.prefix(300))")
        }
    }

    /// Moves every thread of `pid` to SCHED_IDLE (`chrt -a -i -p 0`), so it runs only on
    /// cycles no other process of its CPU wants.
    static func runIdle(_ pid: Int32, what: String) async throws {
        let result = try await ExternalCommand.run("chrt", ["-a", "-i", "-p", "0", String(pid)])
        guard result.succeeded else {
            throw ValidationError("chrt -a -i -p 0 \(pid) (\(what)) failed: \(result.output.prefix(300))")
        }
    }

    /// What the report says about the placement.
    var description: String {
        guard let cpus else { return "nothing pinned (\(unpinnedReason ?? "--pin none")): every process competes for every CPU" }
        return """
            pinned with taskset: CPU \(cpus.redisHost) is the "Redis host" (redis-server, and the collector when shipping), \
            CPU \(cpus.remote) the "remote" hosts (redis-benchmark, this benchmark process); the object store as said above
            """
    }

    /// The placement `--pin` asks for, checked against this machine.
    static func resolve(_ mode: S3ImpactBenchmark.PinMode, redisHostCPU: Int, remoteCPU: Int) throws -> S3ImpactPinning {
        guard mode == .hosts else { return S3ImpactPinning(cpus: nil, unpinnedReason: "--pin none") }
        guard ExternalCommand.find("taskset") != nil else {
            let note = "taskset (util-linux) is missing"
            print("note: \(note); running unpinned, so the collector and the store take CPU from redis-benchmark (apt-get install util-linux)")
            return S3ImpactPinning(cpus: nil, unpinnedReason: note)
        }
        let online = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        guard redisHostCPU != remoteCPU, redisHostCPU < online, remoteCPU < online else {
            throw ValidationError("--redis-host-cpu \(redisHostCPU) and --remote-cpu \(remoteCPU) must be two different CPUs of the \(online) online (0 to \(online - 1))")
        }
        return S3ImpactPinning(cpus: (redisHostCPU, remoteCPU), unpinnedReason: nil)
    }
}

/// Busy and total jiffies of each CPU from /proc/stat: how busy the two modelled hosts
/// were during a run, whoever used them (other processes on a shared machine included).
struct CPUTimes {
    let busy: [Int: Double], total: [Int: Double]

    static func now() -> CPUTimes {
        var busy: [Int: Double] = [:], total: [Int: Double] = [:]
        let text = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let fields = line.split(separator: " ")
            guard let cpu = Int(fields[0].dropFirst(3)) else { continue }
            let values = fields.dropFirst().compactMap { Double($0) }
            guard values.count >= 5 else { continue }
            // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
            let all = values.prefix(8).reduce(0, +)
            busy[cpu] = all - values[3] - values[4]
            total[cpu] = all
        }
        return CPUTimes(busy: busy, total: total)
    }

    /// The share of `cpu` that was busy between `earlier` and this sample.
    func busyShare(of cpu: Int, since earlier: CPUTimes) -> Double {
        let elapsed = (total[cpu] ?? 0) - (earlier.total[cpu] ?? 0)
        guard elapsed > 0 else { return .nan }
        return ((busy[cpu] ?? 0) - (earlier.busy[cpu] ?? 0)) / elapsed
    }
}
