import Demos
import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// The benchmarks of sections 4.5 and 4.6 against a real redis-server: sane figures, the
/// book's commands really sent, partial results when the server goes away, CSV and SVG.
/// No test asserts an absolute speed.
@Suite struct BenchmarkTests {
    @Test func updateTokenRunsEveryMode() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let outcome = try await UpdateTokenBenchmark.run(server.connectionConfiguration,
                                                             .init(duration: .milliseconds(400), modes: [.plain, .pipeline, .multi]))
            #expect(outcome.stopped == nil)
            #expect(outcome.rows.map(\.label) == ["plain", "pipeline", "multi"])
            for row in outcome.rows {
                #expect(row.calls > 0 && row.seconds > 0)
                #expect(row.commands == row.calls * (row.label == "multi" ? 7 : 5))
                let p50 = try #require(row.p50), p99 = try #require(row.p99), p999 = try #require(row.p999)
                #expect(p50 > 0 && p50 <= p99 && p99 <= p999)
            }
            // Which mode is faster is the benchmark's to show (scripts/bench), not a test's:
            // on a loaded machine the order of two 400 ms runs is noise.
            // The book's update_token really ran: ZINCRBY viewed: item -1 once per call.
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let total = outcome.rows.reduce(0) { $0 + $1.calls }
            #expect(try await c.send(["ZSCORE", "viewed:", "item"]).string.flatMap { Double($0) } == -Double(total))
            #expect(try await c.send(["HGET", "login:", "token"]) == .bulk("user"))
            #expect(try await c.send(["ZCARD", "viewed:token"]) == .integer(1))
            await c.close()
        }
    }

    @Test func serverGoingAwayStopsTheRunAndKeepsWhatWasMeasured() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let run = Task {
                try await UpdateTokenBenchmark.run(server.connectionConfiguration, .init(duration: .seconds(20), modes: [.plain, .pipeline], clients: 2))
            }
            // Crash the server once calls have been counted (bounded wait).
            for _ in 0..<1000 where try await c.send(["ZSCORE", "viewed:", "item"]) == .null {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await lab.crash("m")
            let outcome = try await run.value
            let stopped = try #require(outcome.stopped)
            #expect(stopped.hasPrefix("plain: "))
            #expect(stopped.contains("127.0.0.1:\(server.port)"), "\(stopped)")
            #expect(outcome.rows.count == 1 && outcome.rows[0].calls > 0)
        }
    }

    @Test func cancellingStopsTheRunAndKeepsWhatWasMeasured() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            let run = Task {
                try await UpdateTokenBenchmark.run(server.connectionConfiguration, .init(duration: .seconds(20), modes: [.pipeline]))
            }
            for _ in 0..<1000 where try await c.send(["ZSCORE", "viewed:", "item"]) == .null {
                try await Task.sleep(for: .milliseconds(10))
            }
            run.cancel()
            let outcome = try await run.value
            #expect(outcome.stopped == "pipeline: interrupted")
            #expect(outcome.rows.first?.calls ?? 0 > 0)
            await c.close()
        }
    }

    @Test func ctrlCAtThePromptStopsTheBenchmarkAndReportsWhatWasMeasured() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8", "NO_COLOR": "1",
                               "HOME": NSTemporaryDirectory(), "REDKEEP_HISTFILE": ""]
            let pty = try PseudoTerminal(RedkeepBinaryTests.binary, ["--port", "\(server.port)"], environment: environment)
            defer { pty.terminate() }
            try pty.expect("127.0.0.1:\(server.port)> ")
            pty.send("benchmark update-token --duration 120s --modes pipeline\r")
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            for _ in 0..<1000 where try await c.send(["ZSCORE", "viewed:", "item"]) == .null {
                try await Task.sleep(for: .milliseconds(10))
            }
            await c.close()
            pty.send("\u{03}")
            let report = try pty.expect("127.0.0.1:\(server.port)> ", timeout: .seconds(30))
            #expect(report.contains("stopped") && report.contains("pipeline: interrupted"), "\(report)")
            #expect(report.contains("calls_per_s"))
            pty.send("exit\r")
            #expect(try pty.waitForExit() == 0)
        }
    }

    @Test func commandsAgainstRedisBenchmark() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let outcome = try await CommandsBenchmark.run(server.connectionConfiguration,
                                                          .init(tests: ["set", "get", "lrange_100", "mset"], clients: 1, pipeline: 1, requests: 2000))
            #expect(outcome.stopped == nil)
            #expect(outcome.rows.map(\.label) == ["set", "get", "lrange_100", "mset"])
            for row in outcome.rows {
                #expect(row.calls == 2000)
                // redis-benchmark is installed here, so every row has its reference figure.
                #expect((row.reference ?? 0) > 0, "\(outcome.reference)")
                #expect((row.share ?? 0) > 0)
            }
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            // redis-benchmark's own values are 3 random letters; ours are "xxx": both 3 bytes.
            #expect(try await c.send(["STRLEN", "key:__rand_int__"]) == .integer(3))
            #expect((try await c.send(["LLEN", "mylist"]).int ?? 0) >= 100)
            await c.close()

            let pipelined = try await CommandsBenchmark.run(server.connectionConfiguration,
                                                            .init(tests: ["incr", "set"], clients: 2, pipeline: 16, requests: 1001, compare: false))
            #expect(pipelined.rows.map(\.calls) == [1001, 1001] && pipelined.rows.first?.reference == nil)
            let after = try await RedisConnection.connect(server.connectionConfiguration)
            #expect(try await after.send(["GET", "key:__rand_int__"]) == .bulk("xxx"))
            #expect(try await after.send(["GET", "counter:__rand_int__"]) == .bulk("1001"), "every INCR of the pipelines counted once")
            await after.close()
            let bad = await #expect(throws: BenchmarkError.self) {
                try await CommandsBenchmark.run(server.connectionConfiguration, .init(tests: ["set", "frobnicate"]))
            }
            #expect(bad?.message.contains("unknown test \"frobnicate\"") == true)
            #expect(bad?.kind == .invalidRequest)
        }
    }

    @Test func redisBenchmarkCSVAndTableFourFive() {
        let rates = CommandsBenchmark.parseCSV("""
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "SET","40000.00","0.020","0.008","0.015","0.031","0.063","1.319"
            "LRANGE_100 (first 100 elements)","20000.50","0.045","0.024","0.039","0.079","0.127","0.519"
            """)
        #expect(rates == ["SET": 40000, "LRANGE_100 (first 100 elements)": 20000.5])
        #expect(CommandsBenchmark.diagnosis(share: 0.9).contains("on par"))
        #expect(CommandsBenchmark.diagnosis(share: 0.55).contains("50-60%"))
        #expect(CommandsBenchmark.diagnosis(share: 0.27).contains("reuse connections"))
    }

    @Test func csvRoundTripAndSVGReport() throws {
        let folder = NSTemporaryDirectory() + "redkeep-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = [
            BenchmarkRow(benchmark: "update-token", label: "plain", clients: 1, calls: 1000, commands: 5000, seconds: 1, p50: 800, p99: 1200, p999: 3000),
            BenchmarkRow(benchmark: "commands", label: "set, quoted", clients: 1, calls: 500, commands: 500, seconds: 0.5, reference: 2000),
        ]
        let a = folder + "/a.csv", b = folder + "/b.csv"
        try BenchmarkCSV.write(rows, to: a)
        try BenchmarkCSV.write([rows[0]], to: b)
        let back = try BenchmarkCSV.read(a)
        #expect(back == rows)
        #expect(back[1].share == 0.5)
        let files = try BenchmarkSVG.write(csvFiles: [a, b], to: folder + "/chart.svg")
        #expect(files.map(\.name) == ["a.csv", "b.csv"])
        let svg = try String(contentsOfFile: folder + "/chart.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("update-token plain") && svg.contains("1,000/s"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/chart.svg.tmp-\(getpid())"))

        let broken = folder + "/broken.csv"
        try (BenchmarkCSV.header + "\nupdate-token,plain,x\n").write(toFile: broken, atomically: true, encoding: .utf8)
        let error = #expect(throws: BenchmarkError.self) { try BenchmarkCSV.read(broken) }
        #expect(error?.message == "\(broken):2: expected 12 fields, found 3")
        #expect(error?.kind == .badCSV && error?.path == broken)
        let notCSV = #expect(throws: BenchmarkError.self) { try BenchmarkCSV.read(folder + "/missing.csv") }
        #expect(notCSV?.message.hasPrefix("cannot read \(folder)/missing.csv") == true)
        #expect(notCSV?.kind == .files && notCSV?.underlying != nil)
    }

    @Test func binaryPrintsJSONSavesCSVAndDrawsTheChart() async throws {
        try await withLab { lab in
            let server = try await lab.start("m")
            let csv = try RedkeepBinaryTests.temporaryFile("run.csv", "")
            let run = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "-c",
                                                      "benchmark update-token --duration 200ms --modes plain,pipeline --json --save \(csv)"])
            #expect(run.status == 0, "\(run.err)")
            let last = try #require(run.out.split(separator: "\n").last)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            let modes = try #require(object["modes"] as? [[String: Any]])
            #expect(modes.compactMap { $0["mode"] as? String } == ["plain", "pipeline"])
            #expect(try BenchmarkCSV.read(csv).count == 2)

            let human = try RedkeepBinaryTests.redkeep(["--port", "\(server.port)", "-c",
                                                        "option output human; benchmark update-token --duration 200ms --unix-socket --modes pipeline"])
            #expect(human.status == 0, "\(human.err)")
            #expect(human.out.contains("pipeline  █"))
            #expect(human.out.contains("\(server.directory)"), "the unix socket in the server's folder: \(human.out)")

            let chart = try RedkeepBinaryTests.redkeep(["-c", "benchmark report \(csv)"])
            #expect(chart.status == 0, "\(chart.err)")
            let svg = String(csv.dropLast(4)) + ".svg"
            #expect(chart.out.contains(svg) && FileManager.default.fileExists(atPath: svg))
            let missing = try RedkeepBinaryTests.redkeep(["-c", "benchmark report /nonexistent/x.csv"])
            #expect(missing.status == 3 && missing.err.contains("cannot read /nonexistent/x.csv"))
        }
    }
}
