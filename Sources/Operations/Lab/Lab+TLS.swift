import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Lab {
    /// The Lab's throwaway CA (made once, in `ROOT/tls-ca`) and, in `directory`, a server
    /// certificate for 127.0.0.1 and localhost plus a client certificate, all signed by
    /// that CA with `openssl`. Existing files are kept, so a restarted server keeps its
    /// certificates.
    func makeTLSFiles(for name: String, in directory: String) async throws(LabError) -> LocalServerTLS {
        let caFolder = "\(root)/tls-ca"
        do { try FileManager.default.createDirectory(atPath: caFolder, withIntermediateDirectories: true) }
        catch { throw LabError(.files, "cannot create the folder \(caFolder) for the Lab's TLS CA: \(error.localizedDescription)") }
        let ca = (certificate: "\(caFolder)/ca.crt", key: "\(caFolder)/ca.key")
        let tls = LocalServerTLS(caFile: ca.certificate, certificateFile: "\(directory)/server.crt", keyFile: "\(directory)/server.key",
                                 clientCertificateFile: "\(directory)/client.crt", clientKeyFile: "\(directory)/client.key")
        if !FileManager.default.fileExists(atPath: ca.certificate) {
            try await Self.openssl(["req", "-x509", "-new", "-nodes"] + Self.ecKey + [
                "-keyout", ca.key, "-out", ca.certificate, "-days", "30", "-subj", "/CN=redkeep Lab CA",
            ], for: name, making: ca.certificate)
            chmod(ca.key, 0o600)
        }
        let pairs = [(tls.certificateFile, tls.keyFile, "server"), (tls.clientCertificateFile, tls.clientKeyFile, "client")]
        for (certificate, key, role) in pairs where !FileManager.default.fileExists(atPath: certificate) {
            try await Self.signedCertificate(certificate: certificate, key: key, role: role, name: name, ca: ca)
        }
        return tls
    }

    /// A key and a certificate signed by the CA; a server's names 127.0.0.1 and localhost.
    private static func signedCertificate(certificate: String, key: String, role: String, name: String,
                                          ca: (certificate: String, key: String)) async throws(LabError) {
        let request = certificate + ".csr"
        let extensions = certificate + ".ext"
        defer { unlink(request); unlink(extensions) }
        let usage = role == "server"
            ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
            : "extendedKeyUsage=clientAuth\n"
        do { try ("basicConstraints=critical,CA:FALSE\n" + usage).write(toFile: extensions, atomically: true, encoding: .utf8) }
        catch { throw LabError(.files, "cannot write \(extensions) for \(name)'s TLS certificate: \(error.localizedDescription)") }
        try await openssl(["req", "-new", "-nodes"] + ecKey + [
            "-keyout", key, "-out", request, "-subj", "/CN=\(role == "server" ? "localhost" : "redkeep-lab-client")",
        ], for: name, making: request)
        try await openssl([
            "x509", "-req", "-in", request, "-CA", ca.certificate, "-CAkey", ca.key,
            "-set_serial", "0x" + String(UInt64.random(in: 1...UInt64.max), radix: 16),
            "-days", "30", "-extfile", extensions, "-out", certificate,
        ], for: name, making: certificate)
        chmod(key, 0o600)
    }

    /// P-256 keys: made in milliseconds, unlike RSA.
    private static let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]

    /// Runs openssl (at most 30 s) and throws with what it printed when it fails.
    private static func openssl(_ arguments: [String], for name: String, making file: String) async throws(LabError) {
        guard let path = ExternalCommand.find("openssl") else {
            throw LabError(.binaryMissing, "cannot make TLS certificates for \(name): openssl is not on PATH (apt-get install openssl)")
        }
        let output = file + ".openssl.log"
        defer { unlink(output) }
        let child = try ChildProcess.spawn(path, arguments, logPath: output)
        guard let status = await child.waitForExit(timeout: .seconds(30)) else {
            _ = await child.terminate(grace: .seconds(1))
            throw LabError(.timeout, "cannot make \(file) for \(name): openssl did not finish within 30 s")
        }
        guard status == .exited(0) else {
            let said = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw LabError(.tls, "cannot make \(file) for \(name): openssl \(arguments[0]) ended with \(status): \(said.suffix(400))")
        }
    }

    /// Where the server listens: `port N`, or for TLS `port 0` and `tls-port N` with its
    /// certificates (also used towards its master: `tls-replication yes`).
    static func listenLines(_ server: LocalServer, clientCertificates: LocalServerClientCertificates) -> [String] {
        guard let tls = server.tls else { return ["port \(server.port)"] }
        return [
            "port 0",
            "tls-port \(server.port)",
            "tls-cert-file \(quoted(tls.certificateFile))",
            "tls-key-file \(quoted(tls.keyFile))",
            "tls-ca-cert-file \(quoted(tls.caFile))",
            "tls-auth-clients \(clientCertificates.rawValue)",
            "tls-replication yes",
        ]
    }

    /// `requirepass`, or an ACL user with the default user off; and how it logs in to a
    /// master (`masteruser`, `masterauth`): a replica with its master's credentials, a
    /// master with its own, so that once a failover demotes it, it can follow a replica
    /// that shares them (the Lab's replicas do), as Redis's docs advise for every server of
    /// a replicated set.
    static func credentialLines(_ server: LocalServer, master: LocalServer?) -> [String] {
        var lines: [String] = []
        if let password = server.password {
            if let user = server.user {
                lines.append("user default off")
                lines.append("user \(quoted(user)) on \(quoted(">" + password.revealed)) ~* &* +@all")
            } else {
                lines.append("requirepass \(quoted(password.revealed))")
            }
        }
        let upstream = master ?? server
        if let password = upstream.password {
            if let user = upstream.user { lines.append("masteruser \(quoted(user))") }
            lines.append("masterauth \(quoted(password.revealed))")
        }
        return lines
    }

    /// Writes `text` to `path` readable by its owner only (0600), through a temporary
    /// file, fsync and rename: configurations may hold passwords.
    static func writePrivately(_ text: String, to path: String) throws(LabError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw LabError(.files, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw LabError(.files, "cannot write \(temporary) at byte \(written): \(reason)")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LabError(.files, "cannot rename \(temporary) to \(path): \(reason)")
        }
    }
}
