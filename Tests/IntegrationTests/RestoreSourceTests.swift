import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// Each sign that a target is the archive's own source is enough on its own: the same
/// `run_id`, the same replication id, the same address (loopback names alike), or being
/// a replica of that address. A server with none of them is accepted, and so is the
/// source itself with `--overwrite-source`.
@Suite(.serialized) struct RestoreSourceTests {
    /// An address nothing here listens on (TEST-NET-1), for descriptors whose address
    /// must not match.
    static let elsewhere = "192.0.2.1:6379"

    /// An archive of `source`'s AOF whose descriptor names it with only what is given.
    static func archive(of source: LocalServer, in lab: Lab, _ label: String, address: String,
                        runId: String? = nil, replicationId: String? = nil) throws -> String {
        let folder = try restoreTemporaryFolder(label, in: lab)
        let descriptor = ArchiveDescriptor(created: Date().timeIntervalSince1970, source: address, runId: runId, replicationId: replicationId)
        try RestoreArchiveBuilder(root: folder, serverDirectory: source.directory, descriptor: descriptor).collect()
        return folder
    }

    /// The refusal's message for a restore of `archive` into `target`, or nil if it was accepted.
    static func refusal(_ archive: String, into target: RedisConnection, name: String, lab: Lab,
                        overwriteSource: Bool = false) async throws -> String? {
        do throws(RestoreError) {
            _ = try await Restore.run(archive: LocalArchiveStore(root: archive), target: .latest,
                                      destination: .connection(target, name: name, scratch: lab),
                                      options: RestoreOptions(flush: true, overwriteSource: overwriteSource))
            return nil
        } catch {
            #expect(error.kind == .refusedTarget, "\(error)")
            return error.message
        }
    }

    @Test func eachSignOfTheSourceIsRefusedOnItsOwn() async throws {
        try await withLab { lab in
            let source = try await lab.start("source", LocalServerOptions(aofTimestamps: true))
            let c = try await RedisConnection.connect(source.connectionConfiguration)
            _ = try await c.pipeline((0..<20).map { ["SET", .string("live:\($0)"), "precious"] })
            try await Task.sleep(for: .milliseconds(1100))  // appendfsync everysec
            let runId = try #require(try await c.info("server").string("run_id"))
            let replid = try #require(try await c.info("replication").string("master_replid"))
            let here = "127.0.0.1:\(source.port)"

            let byRunId = try Self.archive(of: source, in: lab, "run-id", address: Self.elsewhere, runId: runId)
            let message = try #require(try await Self.refusal(byRunId, into: c, name: "prod", lab: lab), "same run_id accepted")
            #expect(message.contains("run_id \(runId)") && message.contains("prod") && message.contains(here) && message.contains(Self.elsewhere), "\(message)")
            #expect(!message.contains("replication id") && !message.contains("address"), "\(message)")

            let byReplid = try Self.archive(of: source, in: lab, "replid", address: Self.elsewhere, replicationId: replid)
            let replidMessage = try #require(try await Self.refusal(byReplid, into: c, name: "prod", lab: lab), "same replication id accepted")
            #expect(replidMessage.contains("replication id \(replid)") && !replidMessage.contains("run_id"), "\(replidMessage)")

            let byAddress = try Self.archive(of: source, in: lab, "address", address: "localhost:\(source.port)")
            let addressMessage = try #require(try await Self.refusal(byAddress, into: c, name: "prod", lab: lab), "same address accepted")
            #expect(addressMessage.contains("its address is the source's, localhost:\(source.port)"), "\(addressMessage)")

            // A replica of the source's address, with no id recorded.
            let replica = try await lab.start("replica", LocalServerOptions(replicaOf: "source"))
            let r = try await RedisConnection.connect(replica.connectionConfiguration)
            let replicaArchive = try Self.archive(of: source, in: lab, "replica", address: here)
            let replicaMessage = try #require(try await Self.refusal(replicaArchive, into: r, name: "replica", lab: lab), "a replica accepted")
            #expect(replicaMessage.contains("it is a replica of the source \(here)"), "\(replicaMessage)")
            #expect(try await c.send(["DBSIZE"]) == .integer(20), "the source was touched")

            // A separate server with none of the signs is restored into.
            let other = try await lab.start("other")
            let o = try await RedisConnection.connect(other.connectionConfiguration)
            #expect(try await Self.refusal(byRunId, into: o, name: "other", lab: lab) == nil)
            #expect(try await o.send(["DBSIZE"]) == .integer(20))

            // The source itself, with the override: replaced, as asked.
            _ = try await c.send(["SET", "only-live", "1"])
            #expect(try await Self.refusal(byRunId, into: c, name: "prod", lab: lab, overwriteSource: true) == nil)
            #expect(try await c.send(["EXISTS", "only-live"]) == .integer(0))
            #expect(try await c.send(["DBSIZE"]) == .integer(20))
            await c.close()
            await r.close()
            await o.close()
        }
    }
}
