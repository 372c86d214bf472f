import Foundation
import RESP
import RedisClient

extension SyncVerifier {
    /// Confirms, for each replica that saw the token, that its AOF reached disk:
    /// WAITAOF on the master for the direct replicas where the server has it (Redis 7.2+);
    /// otherwise what the replica's `appendfsync` allows: `always` is on disk before the
    /// replica answers, `everysec` once a fsync second has passed with no fsync pending
    /// (`aof_pending_bio_fsync:0`, `aof_buffer_length:0`), `no` never.
    static func confirmFsync(_ work: inout [Candidate], master: RedisConnection, direct: [Int],
                             deadline: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        var handled = Set<Int>()
        let seenDirect = direct.filter { work[$0].result.seenMicros != nil }
        if !seenDirect.isEmpty, await master.hasCommand("WAITAOF") {
            let started = clock.now
            let left = max(1, milliseconds(deadline - clock.now))
            if let reply = try? await master.reply(to: RESPCommand("WAITAOF", "0", String(seenDirect.count), String(left))),
               let counts = reply.elements, counts.count == 2, let replicasSynced = counts[1].int {
                for index in seenDirect {
                    handled.insert(index)
                    work[index].result.fsync = replicasSynced >= seenDirect.count
                        ? .confirmed(method: "WAITAOF", micros: micros(clock.now - started))
                        : .notConfirmed("WAITAOF: only \(replicasSynced) of \(seenDirect.count) direct replicas fsynced their AOF in time")
                }
            }
        }
        await withTaskGroup(of: (Int, FsyncOutcome).self) { group in
            for index in work.indices where !handled.contains(index) && work[index].result.seenMicros != nil {
                guard let connection = work[index].connection else { continue }
                group.addTask { (index, await fsyncOnReplica(connection, deadline: deadline)) }
            }
            for await (index, outcome) in group { work[index].result.fsync = outcome }
        }
        for index in work.indices where work[index].result.seenMicros == nil {
            work[index].result.fsync = .notConfirmed("the token never reached it")
        }
    }

    /// The fsync check on one replica, by its `appendfsync` policy.
    static func fsyncOnReplica(_ connection: RedisConnection, deadline: ContinuousClock.Instant) async -> FsyncOutcome {
        let clock = ContinuousClock()
        let started = clock.now
        let persistence: RedisInfo
        do { persistence = try await connection.info("persistence") } catch {
            return .notConfirmed("INFO persistence failed: \(error.message)")
        }
        guard persistence.int("aof_enabled") == 1 else { return .noAOF }
        let policy = (try? await connection.configGet("appendfsync"))?["appendfsync"] ?? "everysec"
        switch policy {
        case "always":
            // The replica fsyncs before it answers anyone, so the answer with the token proves it.
            return .confirmed(method: "appendfsync always", micros: 0)
        case "no":
            return .notConfirmed("appendfsync is no: the operating system decides when the AOF reaches disk")
        default:
            break
        }
        // everysec: the replica fsyncs at its first flush once its clock's second has moved
        // on from its last fsync, so a fsync that covers the token starts at the latest just
        // after the next second boundary (plus its cached clock's and one event-loop tick's delay, 100 ms each at hz 10). Wait
        // for that boundary by the replica's own clock, then for no fsync to be pending.
        guard let time = try? await connection.send(RESPCommand("TIME")), let parts = time.elements, parts.count == 2,
              let microsNow = parts[1].string.flatMap(Int.init) else {
            return .notConfirmed("the replica did not answer TIME")
        }
        // The next second boundary by the replica's clock, plus slack for its cached clock
        // and one event-loop tick.
        let earliest = started + .microseconds(1_000_000 - microsNow) + .milliseconds(250)
        while clock.now < deadline {
            if clock.now >= earliest,
               let info = try? await connection.info("persistence"),
               info.int("aof_pending_bio_fsync") == 0, info.int("aof_buffer_length") ?? 0 == 0 {
                return .confirmed(method: "everysec: next fsync second passed, aof_pending_bio_fsync:0", micros: micros(clock.now - started))
            }
            let wait = clock.now < earliest ? min(earliest - clock.now, deadline - clock.now) : .milliseconds(1)
            try? await Task.sleep(for: max(.zero, wait))
        }
        return .notConfirmed("no fsync could be confirmed before the timeout (appendfsync everysec)")
    }
}
