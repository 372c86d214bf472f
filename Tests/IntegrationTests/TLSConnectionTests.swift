import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// TLS against real redis-server processes with `tls-port` (made by the Lab with its own
/// throwaway CA): client certificates, replication over TLS, and every handshake failure
/// named with its host:port.
@Suite struct TLSConnectionTests {
    @Test func tlsServerWithClientCertificatesAnswersAndReplicatesOverTLS() async throws {
        try await withLab { lab in
            let master = try await lab.start("m", LocalServerOptions(tls: true))
            let tls = try #require(master.tls)
            #expect(master.connectionConfiguration.tls == tls.clientConfiguration)
            for key in [tls.keyFile, tls.clientKeyFile] {
                let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(key)")
            }
            let c = try await RedisConnection.connect(master.connectionConfiguration)
            _ = try await c.send(["SET", "greeting", "hello"])
            #expect(try await c.send(["GET", "greeting"]) == .bulk("hello"))
            #expect(try await c.configGet("tls-auth-clients")["tls-auth-clients"] == "yes")
            #expect(try await c.configGet("port")["port"] == "0")

            // A replica of a TLS master speaks TLS too, and links with tls-replication.
            let replica = try await lab.start("r", LocalServerOptions(replicaOf: "m"))
            #expect(replica.tls != nil)
            #expect(try await c.send(["WAIT", "1", "5000"]) == .integer(1))
            let r = try await RedisConnection.connect(replica.connectionConfiguration)
            #expect(try await r.send(["GET", "greeting"]) == .bulk("hello"))
            #expect(try await r.configGet("tls-replication")["tls-replication"] == "yes")
            await c.close()
            await r.close()
        }
    }

    @Test func withoutAClientCertificateTheServerRefuses() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(tls: true))
            var configuration = server.connectionConfiguration
            configuration.tls?.certificateFile = nil
            configuration.tls?.keyFile = nil
            let error = await Self.failure(configuration)
            #expect(error?.kind == .tlsFailed || error?.kind == .connectionClosed)
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
            #expect(error?.message.contains("certificate") == true, "\(String(describing: error))")
        }
    }

    @Test func unknownCAIsNamed() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(tls: true))
            var configuration = server.connectionConfiguration
            configuration.tls?.caFile = nil  // the system's CAs, which never signed the Lab's
            let error = await Self.failure(configuration)
            #expect(error?.kind == .tlsFailed)
            #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(server.port) failed: unknown CA") == true,
                    "\(String(describing: error))")
        }
    }

    @Test func nameMismatchIsNamed() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", LocalServerOptions(tls: true))
            var configuration = server.connectionConfiguration
            configuration.tls?.serverName = "wrong.example"
            let error = await Self.failure(configuration)
            #expect(error?.kind == .tlsFailed)
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true)
            #expect(error?.message.contains("name mismatch") == true, "\(String(describing: error))")
            #expect(error?.message.contains("wrong.example") == true)
            // The same name without checking names connects.
            configuration.tls?.verification = .noHostname
            let c = try await RedisConnection.connect(configuration)
            #expect(try await c.send(["PING"]) == .simple("PONG"))
            await c.close()
        }
    }

    @Test func expiredCertificateIsNamed() async throws {
        try await withLab { lab in
            // The Lab's CA signs a certificate that expired in 2020; the server switches to it.
            let server = try await lab.start("m", LocalServerOptions(tls: true))
            let tls = try #require(server.tls)
            let expired = try await Self.expiredCertificate(in: server.directory, caFile: tls.caFile)
            let c = try await RedisConnection.connect(server.connectionConfiguration)
            _ = try await c.send(["CONFIG", "SET", "tls-cert-file", .string(expired.certificate), "tls-key-file", .string(expired.key)])
            await c.close()
            let error = await Self.failure(server.connectionConfiguration)
            #expect(error?.kind == .tlsFailed)
            #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(server.port) failed: expired certificate") == true,
                    "\(String(describing: error))")
        }
    }

    @Test func tlsClientAgainstAPlainPortSaysItIsNotTLS() async throws {
        try await withLab { lab in
            let plain = try await lab.start("p")
            let tlsServer = try await lab.start("t", LocalServerOptions(tls: true))
            var configuration = plain.connectionConfiguration
            configuration.tls = tlsServer.connectionConfiguration.tls
            configuration.connectTimeout = .seconds(2)
            let error = await Self.failure(configuration)
            #expect(error?.kind == .tlsFailed)
            #expect(error?.message.contains("TLS handshake with 127.0.0.1:\(plain.port) failed") == true, "\(String(describing: error))")
            #expect(error?.message.contains("not speak TLS") == true, "\(String(describing: error))")
        }
    }

    @Test func plainClientAgainstATLSPortSaysItMayExpectTLS() async throws {
        try await withLab { lab in
            let server = try await lab.start("t", LocalServerOptions(tls: true))
            var configuration = server.connectionConfiguration
            configuration.tls = nil
            configuration.commandTimeout = .seconds(5)
            let error = await Self.failure(configuration)
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
            #expect(error?.message.contains("if it expects TLS on this port, connect with rediss:// or --tls") == true,
                    "\(String(describing: error))")
        }
    }

    @Test func passwordAndACLUserServersAndTheirReplicas() async throws {
        try await withLab { lab in
            let secret = RedisSecret("s3cret-\(UInt32.random(in: 0...UInt32.max))")
            let master = try await lab.start("m", LocalServerOptions(tls: true, password: secret, user: "ops"))
            #expect(master.user == "ops")
            let config = try String(contentsOfFile: master.configPath, encoding: .utf8)
            #expect(config.contains("user default off"))
            let mode = try FileManager.default.attributesOfItem(atPath: master.configPath)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let c = try await RedisConnection.connect(master.connectionConfiguration)
            #expect(try await c.send(["ACL", "WHOAMI"]) == .bulk("ops"))
            _ = try await c.send(["SET", "k", "v"])
            // Without credentials: refused.
            var anonymous = master.connectionConfiguration
            anonymous.username = nil
            anonymous.password = nil
            let a = try await RedisConnection.connect(anonymous)
            let refused = try await a.reply(to: ["GET", "k"])
            #expect(refused.errorMessage?.hasPrefix("NOAUTH") == true)
            await a.close()
            // The replica logs in to its master as ops, over TLS, and takes the same credentials.
            let replica = try await lab.start("r", LocalServerOptions(replicaOf: "m"))
            #expect(replica.password == secret)
            #expect(try await c.send(["WAIT", "1", "5000"]) == .integer(1))
            let r = try await RedisConnection.connect(replica.connectionConfiguration)
            #expect(try await r.send(["GET", "k"]) == .bulk("v"))
            await r.close()
            await c.close()

            let plain = try await lab.start("p", LocalServerOptions(password: secret))
            let p = try await RedisConnection.connect(plain.connectionConfiguration)
            #expect(try await p.configGet("requirepass")["requirepass"] == secret.revealed)
            await p.close()
        }
    }

    /// A demoted master must be able to log in to the promoted replica: the Lab gives each
    /// password server a masterauth of its own, and a failover whose demoted master has none
    /// is refused before anything changes, naming the setting to fix.
    @Test func failoverChecksThatTheDemotedMasterCanLogIn() async throws {
        try await withLab { lab in
            let secret = RedisSecret("pw-\(UInt32.random(in: 0...UInt32.max))")
            _ = try await lab.start("m", LocalServerOptions(password: secret))
            _ = try await lab.start("r", LocalServerOptions(replicaOf: "m"))
            let master = try await lab.replicationServer("m")
            let replica = try await lab.replicationServer("r")
            let m = try await RedisConnection.connect(master.configuration)
            #expect(try await m.configGet("masterauth")["masterauth"] == secret.revealed)
            _ = try await m.send(["SET", "k", "v"])
            #expect(try await m.send(["WAIT", "1", "5000"]) == .integer(1))

            // Without masterauth on the master, promoting its replica is refused up front.
            _ = try await m.send(["CONFIG", "SET", "masterauth", ""])
            do throws(ReplicationError) {
                _ = try await Failover.promote(replica, others: [], known: [master, replica])
                Issue.record("a failover whose demoted master cannot log in was not refused")
            } catch {
                #expect(error.message.contains("m (\(master.endpoint)) would follow r (\(replica.endpoint)), which requires a password, but m has no masterauth"), "\(error.message)")
                #expect(error.message.contains("nothing was changed"))
                #expect(!error.message.contains(secret.revealed))
                #expect(error.kind == .unsafe && error.server == "m (\(master.endpoint))")
            }
            #expect(try await m.replicationState().isReplica == false)
            let r = try await RedisConnection.connect(replica.configuration)
            #expect(try await r.replicationState().isReplica)

            // A wrong masterauth is refused too; the right one lets the failover finish.
            _ = try await m.send(["CONFIG", "SET", "masterauth", "not-the-password"])
            await #expect(throws: ReplicationError.self) {
                _ = try await Failover.promote(replica, others: [], known: [master, replica])
            }
            _ = try await m.send(["CONFIG", "SET", "masterauth", .string(secret.revealed)])
            let report = try await Failover.promote(replica, others: [], known: [master, replica])
            #expect(report.completed)
            #expect(try await r.replicationState().isReplica == false)
            let demoted = try await m.replicationState()
            #expect(demoted.isReplica && demoted.linkUp)
            await r.close()
            await m.close()
        }
    }

    // MARK: - Helpers

    /// The error connecting and sending PING gives, or nil when both succeed.
    static func failure(_ configuration: RedisConnectionConfiguration) async -> RedisClientError? {
        do {
            let c = try await RedisConnection.connect(configuration)
            defer { Task { await c.close() } }
            _ = try await c.send(["PING"])
            return nil
        } catch {
            return error
        }
    }

    /// A key and a certificate for 127.0.0.1 valid only in January 2020, signed by the CA
    /// in `caFile` (its key beside it), made with `openssl ca`, which takes explicit dates.
    static func expiredCertificate(in directory: String, caFile: String) async throws -> (certificate: String, key: String) {
        let caKey = (caFile as NSString).deletingPathExtension + ".key"
        let folder = directory + "/expired"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "".write(toFile: folder + "/index.txt", atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: folder + "/serial", atomically: true, encoding: .utf8)
        try """
            [ ca ]
            default_ca = lab
            [ lab ]
            database = \(folder)/index.txt
            new_certs_dir = \(folder)
            serial = \(folder)/serial
            default_md = sha256
            policy = any
            [ any ]
            commonName = supplied
            [ server ]
            subjectAltName = IP:127.0.0.1,DNS:localhost
            basicConstraints = critical,CA:FALSE
            """.write(toFile: folder + "/ca.cnf", atomically: true, encoding: .utf8)
        let key = folder + "/server.key", request = folder + "/server.csr", certificate = folder + "/server.crt"
        for arguments in [
            ["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout", key, "-out", request, "-subj", "/CN=localhost"],
            ["ca", "-config", folder + "/ca.cnf", "-batch", "-notext", "-extensions", "server",
             "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
             "-cert", caFile, "-keyfile", caKey, "-in", request, "-out", certificate],
        ] {
            let run = try await ExternalCommand.run("openssl", arguments)
            guard run.succeeded else { throw LabError("openssl \(arguments[0]) failed: \(run.output)") }
        }
        return (certificate, key)
    }
}
