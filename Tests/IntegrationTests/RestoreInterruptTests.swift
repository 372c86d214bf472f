import Foundation
import NIOCore
import Operations
import RESP
import RedisClient
import Synchronization
import Testing

/// Progress and Ctrl-C in the phases of `--dry-run` and `--write-aof` that read the base:
/// the dry run's check of the base, and the copy of the base into the AOF folder. Each is
/// cancelled (as Ctrl-C cancels the statement's task) from its own first progress report,
/// so the restore must report progress from inside the phase and stop there.
@Suite(.serialized) struct RestoreInterruptTests {
    /// The base's size: more than two of the pieces the check (8 MB) and the copy (4 MB)
    /// read, so each reports progress, and can stop, before its end.
    static let baseBytes = 20 << 20

    /// A source whose RDB base holds 20 values of 1 MB of random bytes (LZF cannot shrink
    /// them), and a few writes in its incr file, archived.
    static func archive(_ lab: Lab) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let (_, archive) = try await RestoreSafetyTests.archive(lab, keys: baseBytes >> 20) { _ in
            var value = ByteBufferAllocator().buffer(capacity: 1 << 20)
            for _ in 0..<((1 << 20) / 8) { value.writeInteger(generator.next() as UInt64) }
            return .bytes(value)
        }
        let base = try #require(try ArchiveIndex.read(archive).generations.last)
        #expect(base.format == .rdb && base.size > baseBytes, "the base holds \(base.size) bytes")
        return archive
    }

    /// The restore's task, cancelled from its progress callback the first time `when` holds.
    final class Canceller: Sendable {
        private let task = Mutex<Task<RestoreReport, any Error>?>(nil)
        private let wanted = Atomic<Bool>(false)
        let seen = Mutex<[RestoreProgress]>([])

        func progress(when condition: @escaping @Sendable (RestoreProgress) -> Bool) -> @Sendable (RestoreProgress) -> Void {
            { progress in
                self.seen.withLock { $0.append(progress) }
                guard condition(progress), !self.wanted.exchange(true, ordering: .relaxed) else { return }
                self.task.withLock { $0?.cancel() }
            }
        }

        func run(_ body: @escaping @Sendable () async throws -> RestoreReport) async -> Result<RestoreReport, any Error> {
            let started = Task { try await body() }
            task.withLock { $0 = started }
            if wanted.load(ordering: .relaxed) { started.cancel() }
            do { return .success(try await started.value) } catch { return .failure(error) }
        }
    }

    /// At the prompt, `replay-until --into` shows its bar while the RDB base loads, and
    /// Ctrl-C there ends it with a report that says `interrupted`, never "end of the
    /// archive". The target's writes are paused while Ctrl-C is typed, so the base cannot
    /// finish loading first.
    @Test(.timeLimit(.minutes(3))) func ctrlCAtThePromptWhileTheBaseLoadsReportsInterrupted() async throws {
        try await withLab { lab in
            let (_, archive) = try await RestoreSafetyTests.archive(lab, keys: 30_000)
            let target = try await lab.start("target")
            let probe = try await RedisConnection.connect(target.connectionConfiguration)
            let (pty, _, folder) = try PromptTests.session()
            defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
            try pty.expect("redkeep> ")
            pty.send("connect t 127.0.0.1:\(target.port)\r")
            try pty.expect("\(target.port)> ")
            pty.send("replay-until now --archive \(archive) --into t --window 1000\r")
            try pty.expect("loading the base: [", timeout: .seconds(60))
            _ = try await probe.send(["CLIENT", "PAUSE", "60000", "WRITE"])
            pty.send("\u{03}")
            // Let the paused batch through once Ctrl-C has been typed (and, with a
            // margin, taken: nothing shows it until the command ends).
            try await Task.sleep(for: .seconds(1))
            _ = try await probe.send(["CLIENT", "UNPAUSE"])
            let report = try pty.expect("\(target.port)> ", timeout: .seconds(60))
            #expect(report.contains("interrupted") && report.contains("while loading the base"), "\(report)")
            #expect(!report.contains("end of the archive"), "\(report)")
            let keys = try await probe.send(["DBSIZE"]).int ?? -1
            #expect(keys > 0 && keys < 30_000, "stopped part-way through the base: \(keys) keys")
            pty.send("\u{04}")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
            await probe.close()
        }
    }

    @Test func aDryRunStopsWhileCheckingTheBase() async throws {
        try await withLab { lab in
            let archive = try await Self.archive(lab)
            let canceller = Canceller()
            let progress = canceller.progress { $0.phase == .checking && $0.done > 0 }
            let result = await canceller.run {
                try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest, destination: .dryRun, progress: progress)
            }
            let report = try result.get()
            #expect(report.outcome.interrupted)
            #expect(report.outcome.stopReason.contains("while checking the base"), "\(report.outcome.stopReason)")
            #expect(report.outcome.commands == 0)
            let checking = canceller.seen.withLock { $0 }.filter { $0.phase == .checking }
            #expect(checking.first.map { $0.done > 0 && $0.done < $0.total } == true, "\(checking)")
        }
    }

    @Test func writeAOFStopsWhileCopyingTheBaseAndLeavesNoFile() async throws {
        try await withLab { lab in
            let archive = try await Self.archive(lab)
            let folder = try restoreTemporaryFolder("written", in: lab) + "/appendonlydir"
            let canceller = Canceller()
            let progress = canceller.progress { $0.phase == .base && $0.done > 0 }
            let result = await canceller.run {
                try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest, destination: .aofFolder(folder),
                                      progress: progress)
            }
            switch result {
            case .success:
                Issue.record("the AOF folder was finished although the copy of the base was interrupted")
            case .failure(let error):
                #expect("\(error)".contains("interrupted while copying the base"), "\(error)")
            }
            let base = canceller.seen.withLock { $0 }.filter { $0.phase == .base }
            #expect(base.first.map { $0.done > 0 && $0.done < $0.total && $0.total > Self.baseBytes } == true, "\(base)")
            let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            #expect(left.isEmpty, "half-written files stayed: \(left)")

            // Without Ctrl-C the same restore writes the folder whole.
            let whole = try restoreTemporaryFolder("whole", in: lab) + "/appendonlydir"
            let report = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest, destination: .aofFolder(whole))
            #expect(!report.outcome.interrupted && report.outcome.commands > 0)
            #expect(FileManager.default.fileExists(atPath: whole + "/appendonly.aof.manifest"))
        }
    }
}
