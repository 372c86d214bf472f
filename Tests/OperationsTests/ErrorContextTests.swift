import Foundation
import RedisClient
import Testing

@testable import Operations

/// The Lab's and replication's errors name what was attempted, against what, and carry the
/// kind and context a caller switches on; none of these needs a server.
@Suite struct ErrorContextTests {
    @Test func aServerBinaryThatIsNotThereIsBinaryMissingAndNamesThePath() {
        do {
            _ = try ServerBinary.locate(environment: ["REDKEEP_SERVER": "/nonexistent/redis-server", "PATH": "/usr/bin"])
            Issue.record("found a server binary at /nonexistent/redis-server")
        } catch {
            #expect(error.kind == .binaryMissing)
            #expect(error.message == "REDKEEP_SERVER is \"/nonexistent/redis-server\", which is not an executable file")
        }
    }

    @Test func theLogOfAServerKeepsTheKindServerAndCause() {
        let cause = CocoaError(.fileWriteOutOfSpace)
        let error = LabError(.startFailed, "redis-server for m exited at once (exit status 1) on 127.0.0.1:6390",
                             server: "m", underlying: cause).adding(log: "bad directive\nFATAL")
        #expect(error.kind == .startFailed)
        #expect(error.server == "m")
        #expect(error.underlying is CocoaError)
        #expect(error.message == "redis-server for m exited at once (exit status 1) on 127.0.0.1:6390\n  last lines of its log:\n    bad directive\n    FATAL")
        #expect(LabError(.timeout, "no log").adding(log: "").message == "no log")
    }

    @Test func aTimeoutOutOfRangeIsAnInvalidRequestNamingTheCommand() {
        do {
            _ = try CommandDeadline(.seconds(7200), command: "failover")
            Issue.record("accepted a --timeout of 2 hours")
        } catch {
            #expect(error.kind == .invalidRequest)
            #expect(error.message == "failover --timeout must be from 100ms to 1h, not 7200.0 seconds")
        }
    }

    @Test func aDumpThatCannotBeReadIsAFilesErrorNamingIt() {
        do {
            _ = try Failover.copyDurably(from: "/nonexistent/dump.rdb", to: NSTemporaryDirectory() + "redkeep-never.rdb")
            Issue.record("copied a dump that does not exist")
        } catch {
            #expect(error.kind == .files)
            #expect(error.message == "cannot read the dump /nonexistent/dump.rdb: No such file or directory")
        }
    }

    @Test func aTCPAddressIsNeededForReplicas() {
        let server = ReplicationServer(name: "local", configuration: .init(endpoint: .unix(path: "/tmp/redis.sock")))
        do {
            _ = try ReplicationWait.tcpEndpoint(server)
            Issue.record("a unix socket was taken as a TCP address")
        } catch {
            #expect(error.kind == .invalidRequest)
            #expect(error.server == server.label)
            #expect(error.message.hasPrefix("\(server.label) is reached over a unix socket"))
        }
    }
}
