import Foundation
import RESP
import RedisClient

extension Collector {
    /// A scheduled rewrite, as the seed does it: copy everything pending, BGREWRITEAOF,
    /// and wait (one INFO persistence per interval) until neither a rewrite is in progress
    /// nor one is scheduled (a rewrite asked for during a BGSAVE is only scheduled).
    /// Copying goes on while Redis rewrites: a Redis 7 rewrite opens a new incr file at
    /// once and the old one is kept open here, so nothing can be lost, and the archive
    /// stays close behind.
    func scheduledRewrite() async {
        setState(.rewriting)
        defer { setState(stopRequested ? .stopping : .running) }
        await pass(pausing: false)
        let endpoint = source.endpoint.description
        do throws(CollectorError) {
            let connection = try await redis()
            let reply: RESPValue
            do { reply = try await connection.reply(to: RESPCommand("BGREWRITEAOF")) } catch { throw CollectorError(error.message) }
            if let message = reply.errorMessage, !message.contains("already in progress") {
                throw CollectorError("\(endpoint) refused BGREWRITEAOF: \(message)")
            }
            let deadline = RateLimiter.now() + Self.seconds(options.rewriteTimeout)
            while true {
                try? await Task.sleep(for: options.interval)
                let info: RedisInfo
                do { info = try await connection.info("persistence") } catch { throw CollectorError(error.message) }
                if info.int("aof_rewrite_in_progress") == 0 && info.int("aof_rewrite_scheduled") == 0 { break }
                if RateLimiter.now() > deadline {
                    throw CollectorError("the scheduled BGREWRITEAOF on \(endpoint) did not finish within \(options.rewriteTimeout); copying goes on")
                }
                await pass(pausing: true)
                if stopRequested { return }
            }
            shared.withLock { $0.status.rewrites += 1 }
            if let status = (try? await connection.info("persistence"))?.string("aof_last_bgrewrite_status"), status != "ok" {
                throw CollectorError("the scheduled BGREWRITEAOF on \(endpoint) failed (aof_last_bgrewrite_status:\(status)); the next one is still scheduled")
            }
        } catch {
            noteError(error)
        }
    }
}
