/// What `s3-impact` measured in each run, and its report (medians over the rounds).
struct S3ImpactSamples {
    /// One run of redis-benchmark, with shipping or without.
    struct Run {
        /// req/s per test (`-c 50`, the goal's figure).
        var rates: [String: Double]
        /// req/s per test with `-P N` (an extra figure), if asked for.
        var pipelinedRates: [String: Double] = [:]
        /// redis-server's CPU as a share of one core, and per request in µs.
        var serverShare = 0.0, serverPerRequest = 0.0
        /// The object store's CPU, as a share of one core.
        var storeShare = 0.0
        /// How busy the Redis host's and the remote CPU were (every process), when pinned.
        var hostBusy: Double?, remoteBusy: Double?
        /// With shipping: the collector's CPU as a share of one core; what the bucket's
        /// index published when redis-benchmark ended, the spool's backlog then, and what
        /// was published once the collector stopped.
        var collectorShare: Double?
        var published = S3ImpactCollector.Objects(nil), backlog = S3ImpactCollector.Objects(nil)
        var shippedByStop = S3ImpactCollector.Objects(nil)
    }

    private var runs: [Bool: [Run]] = [:]

    mutating func add(_ run: Run, shipping: Bool) { runs[shipping, default: []].append(run) }

    func report(pipeline: Int) {
        let with = runs[true] ?? [], without = runs[false] ?? []
        printRates(with.map(\.rates), without.map(\.rates), goal: true)
        let a = median(without.map(\.serverPerRequest)), b = median(with.map(\.serverPerRequest))
        print("  redis-server CPU per request, median: with shipping \(fixed(b, 2)) µs, without \(fixed(a, 2)) µs, without/with \(fixed(a / b, 3))")
        print("      rounds: with \(with.map { fixed($0.serverPerRequest, 2) }.joined(separator: " ")); without \(without.map { fixed($0.serverPerRequest, 2) }.joined(separator: " ")) µs")
        print("  redis-server busy while redis-benchmark ran (share of one core; 100% = saturated): with shipping \(percent(with.map(\.serverShare))), without \(percent(without.map(\.serverShare)))")
        let host = with.compactMap(\.hostBusy), hostWithout = without.compactMap(\.hostBusy)
        if !host.isEmpty {
            let remote = with.compactMap(\.remoteBusy), remoteWithout = without.compactMap(\.remoteBusy)
            print("  CPU busy, every process on it (other programs on this machine too): Redis host CPU with shipping \(percent(host)), without \(percent(hostWithout)); remote CPU with \(percent(remote)), without \(percent(remoteWithout))")
        }
        print("  collector (redkeep chunk run) CPU, share of one core: \(percent(with.compactMap(\.collectorShare))); object store (weed): with shipping \(percent(with.map(\.storeShare))), without \(percent(without.map(\.storeShare)))")
        func objects(_ o: S3ImpactCollector.Objects) -> String { "\(o.count)/\(megabytes(o.bytes))" }
        print("  shipped while redis-benchmark ran (objects/bytes published in the bucket when it ended), per round: \(with.map { objects($0.published) }.joined(separator: " "))")
        print("      backlog in the spool then: \(with.map { objects($0.backlog) }.joined(separator: " ")); published once the collector stopped: \(with.map { objects($0.shippedByStop) }.joined(separator: " "))")
        if pipeline > 0 {
            print("  extra, NOT the goal figure: the same runs also ran redis-benchmark -c 50 -P \(pipeline) after the timed -c 50 one")
            printRates(with.map(\.pipelinedRates), without.map(\.pipelinedRates), goal: false)
        }
    }

    private func printRates(_ with: [[String: Double]], _ without: [[String: Double]], goal: Bool) {
        let tests = Set(without.flatMap(\.keys)).sorted()
        for test in tests {
            let w = with.compactMap { $0[test] }, wo = without.compactMap { $0[test] }
            let a = median(wo), b = median(w)
            let label = goal ? verdict(b / a, goal: 0.98) : "(extra)"
            // Each round ran both, back to back: their ratio cancels the machine's slow
            // drift, which the ratio of medians (the goal figure) does not.
            let paired = zip(with, without).compactMap { w, wo in w[test].flatMap { x in wo[test].map { x / $0 } } }
            print("  \(test.padding(toLength: 6, withPad: " ", startingAt: 0)) with shipping \(grouped(b))/s   without \(grouped(a))/s   ratio of medians \(fixed(b / a, 3))  \(label)"
                  + "   (second statistic: median of per-round paired ratios \(paired.isEmpty ? "-" : fixed(median(paired), 3)))")
            print("      rounds: with \(w.map { grouped($0) }.joined(separator: " ")); without \(wo.map { grouped($0) }.joined(separator: " ")); paired with/without \(paired.map { fixed($0, 3) }.joined(separator: " "))")
        }
    }

    private func percent(_ values: [Double]) -> String {
        values.isEmpty ? "-" : "\(fixed(median(values) * 100, 1))% (max \(fixed((values.max() ?? 0) * 100, 1))%)"
    }
}
