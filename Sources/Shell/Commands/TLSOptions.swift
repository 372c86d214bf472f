import ArgumentParser
import RedisClient

/// The TLS options of `connect`, as redis-cli has them: `--tls`, `--cacert`, `--cacertdir`,
/// `--cert` with `--key`, `--sni`, `--insecure`. Any of them turns TLS on.
struct TLSOptions: ParsableArguments {
    @Flag(help: "Speak TLS (as rediss:// does).") var tls = false
    @Option(help: ArgumentHelp("Trust the CA certificates in this PEM file.", valueName: "file")) var cacert: String?
    @Option(help: ArgumentHelp("Trust the CA certificates in this (hashed) folder.", valueName: "dir")) var cacertdir: String?
    @Option(help: ArgumentHelp("The client certificate (PEM), with --key.", valueName: "file")) var cert: String?
    @Option(help: ArgumentHelp("The client certificate's private key (PEM).", valueName: "file")) var key: String?
    @Option(help: ArgumentHelp("The server name for SNI and for checking its certificate.", valueName: "name")) var sni: String?
    @Flag(help: "Do not verify the server's certificate (anyone in between can read and change the traffic).") var insecure = false

    /// The warning printed each time an `--insecure` connection is opened.
    static func insecureWarning(_ endpoint: RedisEndpoint) -> String {
        "warning: TLS to \(endpoint) without verifying its certificate (--insecure): anyone in between can read and change the traffic"
    }

    /// Whether any TLS option was given.
    var given: Bool {
        tls || cacert != nil || cacertdir != nil || cert != nil || key != nil || sni != nil || insecure
    }

    /// Adds these options to `configuration`; a usage error when they do not fit together.
    func apply(to configuration: inout RedisConnectionConfiguration) throws(ShellError) {
        guard given || configuration.tls != nil else { return }
        guard (cert == nil) == (key == nil) else {
            throw ShellError(.usage, "--cert and --key go together: a client certificate needs its key", at: nil)
        }
        var settings = configuration.tls ?? RedisTLSConfiguration()
        settings.caFile = cacert ?? settings.caFile
        settings.caDirectory = cacertdir ?? settings.caDirectory
        settings.certificateFile = cert ?? settings.certificateFile
        settings.keyFile = key ?? settings.keyFile
        settings.serverName = sni ?? settings.serverName
        if insecure { settings.verification = .none }
        configuration.tls = settings
    }
}
