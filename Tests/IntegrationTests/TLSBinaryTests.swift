import Foundation
import Operations
import RedisClient
import Testing

/// The redkeep executable over TLS: `start NAME --tls` at the prompt, and the redis-cli
/// style options on the command line (`--tls --cacert --cert --key --insecure`).
@Suite struct TLSBinaryTests {
    @Test func startWithTLSThenWriteAndRead() throws {
        let run = try RedkeepBinaryTests.redkeep(["-c", """
            start a --tls
            SET color blue
            let v = GET color
            let info = INFO server
            echo got $v from ${info.process_id}
            """])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("got blue from "), "\(run.out)")
    }

    @Test func commandLineTLSOptionsConnectAndFailuresExitTwo() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(tls: true))
            let tls = try #require(server.tls)
            let good = try RedkeepBinaryTests.redkeep([
                "--port", "\(server.port)", "--tls", "--cacert", tls.caFile,
                "--cert", tls.clientCertificateFile, "--key", tls.clientKeyFile, "-c", "SET a 1; GET a",
            ])
            #expect(good.status == 0, "\(good.err)")
            #expect(good.out == "OK\n1\n")
            #expect(!good.err.contains("warning"))

            let insecure = try RedkeepBinaryTests.redkeep([
                "--port", "\(server.port)", "--insecure",
                "--cert", tls.clientCertificateFile, "--key", tls.clientKeyFile, "-c", "GET a",
            ])
            #expect(insecure.status == 0, "\(insecure.err)")
            #expect(insecure.out == "1\n")
            #expect(insecure.err.contains("without verifying its certificate (--insecure)"), "\(insecure.err)")

            let unknownCA = try RedkeepBinaryTests.redkeep([
                "-u", "rediss://127.0.0.1:\(server.port)",
                "--cert", tls.clientCertificateFile, "--key", tls.clientKeyFile, "-c", "GET a",
            ])
            #expect(unknownCA.status == 2)
            #expect(unknownCA.err.contains("TLS handshake with 127.0.0.1:\(server.port) failed: unknown CA"), "\(unknownCA.err)")
        }
    }

    /// The tour's steps with every server on TLS with client certificates: replication,
    /// the collector, replay-until --into, verify-sync, failover --promote.
    @Test func theTourStepsOverTLS() throws {
        let script = try RedkeepBinaryTests.temporaryFile("tls-tour.rk", """
            start master --tls --aof --config appendfsync always
            start replica --replica-of master
            SET greeting "hello over TLS"
            wait-until $(@replica GET greeting) == "hello over TLS" --timeout 5s
            let ledger = start ledger --tls --aof-timestamps --config auto-aof-rewrite-percentage 0
            use ledger
            let archive = "${ledger.dir}-archive"
            chunk start --archive $archive --interval 200ms --chunk-size 16KB
            SET balance:alice 100
            SET balance:bob 50
            sleep 1100ms
            mark before-payday
            multi {
              INCRBY balance:alice 25
              DECRBY balance:bob 25
            }
            sleep 1100ms
            chunk stop
            start copy --tls
            replay-until --mark before-payday --archive $archive --into copy
            assert $(@copy GET balance:alice) == 100 "the copy holds the state at the mark"
            assert $(@copy GET balance:bob) == 50 "the copy holds the state at the mark"
            use master
            verify-sync master replica
            failover --promote replica
            assert $(@replica GET greeting) == "hello over TLS" "the promoted replica has the data"
            @replica SET after failover
            wait-until $(@master GET after) == "failover" --timeout 5s
            echo tls tour done
            """)
        let run = try RedkeepBinaryTests.redkeep([script])
        #expect(run.status == 0, "\(run.err)\n\(run.out.suffix(1500))")
        #expect(run.out.contains("tls tour done"), "\(run.out.suffix(1500))")
    }

    /// A TLS master, its replica and a Sentinel of the master (`s`), with data on both.
    static let sentinelSetup = """
        start master --tls
        start replica --replica-of master
        let s = start s1 --sentinel master
        use master
        SET k v
        wait-until $(@replica GET k) == "v" --timeout 5s
        """

    /// Runs `sentinelSetup`, then `failover` (the failover line), and checks that Sentinel
    /// promoted the replica and the current connection followed it.
    static func sentinelFailover(_ file: String, _ failover: String) throws {
        let script = try RedkeepBinaryTests.temporaryFile(file, sentinelSetup + """

            let report = \(failover)
            assert ${report.new_master} == "replica" "Sentinel should promote the replica"
            assert $(GET k) == "v" "the current connection follows the new master"
            echo new master ${report.new_master}
            """)
        let run = try RedkeepBinaryTests.redkeep([script])
        #expect(run.status == 0, "\(run.err)\n\(run.out.suffix(1500))")
        #expect(run.out.contains("new master replica"), "\(run.out.suffix(1500))")
    }

    /// A Sentinel of a TLS master speaks TLS to it and its replica, and failover through
    /// it completes: the promoted replica is reached with the same TLS settings.
    @Test func sentinelFailoverOverTLS() throws {
        try Self.sentinelFailover("tls-sentinel.rk", "failover --sentinel s1 --master master")
    }

    /// A Sentinel given by address rather than by connection name is reached with the TLS
    /// options given to failover (the Lab's start report names its CA and client
    /// certificate); without them the failover stops at the handshake, before any step.
    @Test func sentinelByAddressOverTLS() throws {
        let plain = try RedkeepBinaryTests.temporaryFile("tls-sentinel-plain.rk", Self.sentinelSetup + """

            failover --sentinel ${s.address} --master master --timeout 5s
            """)
        let refused = try RedkeepBinaryTests.redkeep([plain])
        #expect(refused.status != 0)
        #expect(refused.err.contains("127.0.0.1:"), "\(refused.err)")
        #expect(!refused.err.contains("completed"), "\(refused.err)")

        try Self.sentinelFailover("tls-sentinel-address.rk",
            "failover --sentinel ${s.address} --master master --tls --cacert ${s.ca} --cert ${s.client_cert} --key ${s.client_key}")
    }

    /// Servers started with a password: the demoted master of a failover --promote links
    /// to the promoted replica (the Lab gives it masterauth) and the data flows back.
    @Test func failoverBetweenPasswordServers() throws {
        let script = try RedkeepBinaryTests.temporaryFile("password-failover.rk", """
            start master --tls --password-env RK_TEST_PASSWORD
            start replica --replica-of master
            use master
            SET greeting hello
            wait-until $(@replica GET greeting) == "hello" --timeout 5s
            failover --promote replica
            @replica SET after failover
            wait-until $(@master GET after) == "failover" --timeout 5s
            echo password failover done
            """)
        let secret = "pw-\(UInt32.random(in: 0...UInt32.max))"
        let run = try RedkeepBinaryTests.redkeep([script], environment: ["RK_TEST_PASSWORD": secret])
        #expect(run.status == 0, "\(run.err)\n\(run.out.suffix(1500))")
        #expect(run.out.contains("password failover done"), "\(run.out.suffix(1500))")
        #expect(!run.out.contains(secret) && !run.err.contains(secret))
    }
}
