import Demos
import Operations
import RedisClient
import Testing

@testable import Shell

/// `ShellError.from`: each kind of the layers' errors becomes the shell error with the exit
/// code LANGUAGE.md gives (usage 1, connection 2, script 3), the message kept and prefixed
/// with what was being done.
@Suite struct ShellErrorMappingTests {
    static let location = SourceLocation(file: SourceFile(name: "t.rk", text: "server start m\n"), offset: 0)

    func mapped(_ error: any Error, doing: String = "") -> ShellError {
        ShellError.from(error, doing: doing, at: Self.location)
    }

    @Test func labErrorsMapByKindAndKeepTheirMessage() {
        #expect(mapped(LabError(.invalidName, "invalid server name \"a/b\"", server: "a/b")).exitCode == 1)
        let kinds: [LabError.Kind] = [.binaryMissing, .alreadyExists, .notFound, .notRunning,
                                      .portUnavailable, .startFailed, .stopFailed, .timeout, .tls, .files]
        for kind in kinds {
            let error = mapped(LabError(kind, "cannot start m on 127.0.0.1:6390: the port is in use", server: "m"))
            #expect(error.kind == .script, "\(kind)")
            #expect(error.exitCode == 3, "\(kind)")
            #expect(error.message == "cannot start m on 127.0.0.1:6390: the port is in use")
            #expect(error.location == Self.location)
        }
    }

    @Test func replicationErrorsMapByKindPrefixedWithTheCommand() {
        #expect(mapped(ReplicationError(.invalidRequest, "failover --timeout must be from 100ms to 1h, not 2h")).exitCode == 1)
        #expect(mapped(ReplicationError(.connection, "r1 (127.0.0.1:6391) does not answer: connection refused")).exitCode == 2)
        let kinds: [ReplicationError.Kind] = [.timeout, .refused, .wrongRole, .unsafe,
                                              .sentinel, .mismatch, .files, .stopped]
        for kind in kinds {
            let error = mapped(ReplicationError(kind, "loner (127.0.0.1:6391) is not a replica", server: "loner (127.0.0.1:6391)"),
                               doing: "verify-sync")
            #expect(error.exitCode == 3, "\(kind)")
            #expect(error.message == "verify-sync: loner (127.0.0.1:6391) is not a replica")
        }
    }

    @Test func persistenceConnectionFailuresEndWith2AndTheRestWith3() {
        #expect(mapped(PersistenceError(.connection, "BGSAVE on 127.0.0.1:6390: connection refused")).exitCode == 2)
        for kind: PersistenceError.Kind in [.failed, .timeout, .refused, .file] {
            let error = mapped(PersistenceError(kind, "SAVE on 127.0.0.1:6390 did not finish within 2s"))
            #expect(error.exitCode == 3, "\(kind)")
            #expect(error.message == "SAVE on 127.0.0.1:6390 did not finish within 2s")
        }
    }

    @Test func demoErrorsMapByKind() throws {
        let endpoint = try RedisEndpoint(parsing: "127.0.0.1:6390")
        #expect(mapped(MarketError(.invalidRequest, "list-item: the item id is empty", endpoint: endpoint)).exitCode == 1)
        for kind: MarketError.Kind in [.notFound, .badState, .serverError] {
            let error = mapped(MarketError(kind, "unknown buyer 404: users:404 does not exist on 127.0.0.1:6390", endpoint: endpoint))
            #expect(error.exitCode == 3, "\(kind)")
            #expect(error.message.contains("127.0.0.1:6390"))
        }
        #expect(mapped(BenchmarkError(.invalidRequest, "benchmark commands: unknown test \"x\"")).exitCode == 1)
        for kind: BenchmarkError.Kind in [.serverError, .badCSV, .files] {
            let error = mapped(BenchmarkError(kind, "run.csv:2: expected 12 fields, found 3", path: "run.csv"))
            #expect(error.exitCode == 3, "\(kind)")
            #expect(error.message == "run.csv:2: expected 12 fields, found 3")
        }
        // The demo commands' own conversion goes the same way; other errors pass through.
        let demo = demoError(MarketError(.notFound, "unknown item X"), at: Self.location)
        #expect((demo as? ShellError)?.exitCode == 3)
        #expect(demoError(RedisClientError(.connectFailed, "refused"), at: Self.location) is RedisClientError)
    }

    @Test func archiveAndRedisErrorsKeepTheirCodes() {
        #expect(mapped(ArchiveError(.unreachable, "s3://b/k: no answer")).exitCode == 2)
        #expect(mapped(ArchiveError(.invalidRequest, "bad location")).exitCode == 1)
        #expect(mapped(ArchiveError(.damaged, "chunk 3 differs")).exitCode == 3)
        #expect(mapped(RedisClientError(.connectFailed, "127.0.0.1:1 refused")).exitCode == 2)
        #expect(mapped(CollectorError(.connection, "127.0.0.1:1 does not answer")).exitCode == 2)
    }
}
