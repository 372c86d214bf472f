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
}
