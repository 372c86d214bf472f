import Foundation
import RESP
import RedisClient

extension ArchiveDrill {
    /// The live data set at the mark, as the capture read it.
    struct Capture {
        var keys: [DrillKey: KeyFingerprint]
        /// False when the capture did not finish within the pause: it proves nothing.
        var complete: Bool
        /// Seconds writes were held: from sending the pause to the answer of CLIENT UNPAUSE.
        var held: Double
        /// The unix time written as the mark's value.
        var markedAt: Double
    }

    /// Refuses a server without `CLIENT PAUSE ... WRITE` (Redis 6.2), before anything is written.
    static func requirePauseWrite(_ live: RedisConnection) async throws(ArchiveDrillError) {
        let version: String
        do { version = try await live.info("server").string("redis_version") ?? "" } catch {
            throw ArchiveDrillError(.live, "cannot read INFO server of the live server \(live.endpoint): \(error.message)", underlying: error)
        }
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2, (parts[0], parts[1]) >= (6, 2) else {
            throw ArchiveDrillError(.unsupported, "the live server \(live.endpoint) runs Redis \(version.isEmpty ? "of an unknown version" : version); a drill holds writes with CLIENT PAUSE ... WRITE, which needs Redis 6.2 or later")
        }
    }

    /// Refuses, before pausing, a data set too large to capture within `maxPause`: the
    /// time one batch of DUMP/PTTL takes now, scaled to the key count, with a margin.
    static func refuseTooLarge(_ reader: KeySpaceReader, maxPause: Duration) async throws(ArchiveDrillError) {
        let endpoint = reader.connection.endpoint
        do {
            let total = try await reader.keyCount()
            guard total > reader.batch, let database = try await reader.databases().first else { return }
            _ = try await reader.connection.send(["SELECT", .string(String(database))])
            let reply = try await reader.connection.send(["SCAN", "0", "COUNT", .string(String(reader.batch))])
            let names = reply.elements?.last?.elements?.compactMap { $0.bytes.map { Array($0.readableBytesView) } } ?? []
            guard names.count >= 10 else { return }
            var sample: [DrillKey: KeyFingerprint] = [:]
            let start = ContinuousClock.now
            try await reader.fingerprint(names, database: database, into: &sample)
            let perKey = seconds(ContinuousClock.now - start) / Double(names.count)
            let estimate = perKey * Double(total) * 1.5
            guard estimate <= seconds(maxPause) else {
                throw ArchiveDrillError(.unsupported, "the live server \(endpoint) holds \(total) keys; reading them (about \(Int(1 / max(perKey, 1e-9))) keys/s here) would hold its writes about \(String(format: "%.1f", estimate)) s, more than the longest pause allowed (\(maxPause)); nothing was paused. Raise --max-pause (up to 60s) if the application can wait that long")
            }
        } catch let error as ArchiveDrillError {
            throw error
        } catch {
            throw ArchiveDrillError(.live, "cannot estimate how long a capture of \(endpoint) takes: \(error)", underlying: error)
        }
    }

    /// Writes the mark and pauses writes in one transaction (the pause starts when EXEC
    /// ends, so no other client's write falls between the mark and the pause), reads
    /// every key while writes are held, then unpauses. CLIENT UNPAUSE is sent on every
    /// path, errors and cancellation included; the pause's own timeout (`maxPause`) lifts
    /// it should this process die.
    static func capture(_ reader: KeySpaceReader, markKey: String, maxPause: Duration, configuration: RedisConnectionConfiguration) async throws(ArchiveDrillError) -> Capture {
        let live = reader.connection
        let markedAt = Date().timeIntervalSince1970
        let pauseMs = Int(seconds(maxPause) * 1000)
        let start = ContinuousClock.now
        let replies: [RESPValue]
        do {
            replies = try await live.pipeline([["MULTI"], ["SET", .string(markKey), .string(String(markedAt))],
                                               ["CLIENT", "PAUSE", .string(String(pauseMs)), "WRITE"], ["EXEC"]])
        } catch {
            _ = await unpause(live, configuration)
            throw ArchiveDrillError(.live, "cannot write the mark \(markKey) and pause writes on \(live.endpoint): \(error.message)", underlying: error)
        }
        let executed = replies.last?.elements ?? []
        guard executed.count == 2, !executed[0].isError, !executed[1].isError else {
            let problem = (executed.first { $0.isError } ?? replies.first { $0.isError })?.errorMessage ?? "EXEC answered \(replies.last.map { "\($0)" } ?? "nothing")"
            _ = await unpause(live, configuration)
            throw ArchiveDrillError(.live, "the live server \(live.endpoint) refused the mark and pause (MULTI, SET \(markKey), CLIENT PAUSE \(pauseMs) WRITE, EXEC): \(problem)")
        }
        // Stop reading a little before the pause ends by itself: a read after that might
        // see writes made after the mark.
        var paused = reader
        paused.deadline = start + maxPause - min(maxPause / 10, .milliseconds(100))
        let read: Result<(keys: [DrillKey: KeyFingerprint], complete: Bool), RedisClientError>
        do { read = .success(try await paused.read()) } catch { read = .failure(error) }
        let readEnded = ContinuousClock.now
        let unpauseProblem = await unpause(live, configuration)
        let held = seconds(ContinuousClock.now - start)
        switch read {
        case .failure(let error):
            throw ArchiveDrillError(.live, "reading the keys of \(live.endpoint) while its writes were held failed: \(error.message)"
                                    + (unpauseProblem.map { "; CLIENT UNPAUSE failed too (\($0)), the pause ends by itself after \(maxPause)" } ?? "; writes were resumed"),
                                    underlying: error)
        case .success(let captured):
            if let unpauseProblem {
                throw ArchiveDrillError(.live, "cannot send CLIENT UNPAUSE to \(live.endpoint) (\(unpauseProblem)); the pause ends by itself after \(maxPause)")
            }
            return Capture(keys: captured.keys, complete: captured.complete && readEnded - start < maxPause, held: held, markedAt: markedAt)
        }
    }

    /// Sends CLIENT UNPAUSE on `connection`, or on a new connection if that one is gone.
    /// Runs in a task of its own, so a cancelled caller still unpauses. Nil on success,
    /// else what failed.
    static func unpause(_ connection: RedisConnection, _ configuration: RedisConnectionConfiguration) async -> String? {
        await Task { () async -> String? in
            if connection.isOpen, (try? await connection.send(["CLIENT", "UNPAUSE"])) != nil { return nil }
            do {
                let fresh = try await RedisConnection.connect(configuration)
                defer { Task { await fresh.close() } }
                _ = try await fresh.send(["CLIENT", "UNPAUSE"])
                return nil
            } catch {
                return "\(error)"
            }
        }.value
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}
