import Foundation
import Testing
@testable import S3

/// Credentials, region and endpoint found the way the AWS CLI finds them, with a home
/// folder of the test's own.
@Suite struct S3CredentialsTests {
    /// A temporary home with `.aws/credentials` and `.aws/config`, removed afterwards.
    func withHome<T>(credentials: String? = nil, config: String? = nil, _ body: (String) throws -> T) throws -> T {
        let home = NSTemporaryDirectory() + "redkeep-s3-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        if let credentials { try credentials.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8) }
        if let config { try config.write(toFile: home + "/.aws/config", atomically: true, encoding: .utf8) }
        return try body(home)
    }

    static let credentialsFile = """
        # keys
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = defaultSecret/+key

        [ops]
        aws_access_key_id=AKIAOPS
        aws_secret_access_key=opsSecret
        aws_session_token = opsToken
        """
    static let configFile = """
        [default]
        region = eu-west-3

        ; a profile with everything in the config file
        [profile store]
        aws_access_key_id = AKIASTORE
        aws_secret_access_key = storeSecret
        region = eu-central-1
        endpoint_url = http://127.0.0.1:9000
        s3 =
          addressing_style = path

        [profile sso]
        sso_session = corp
        """

    @Test func environmentKeysWinOverProfiles() throws {
        try withHome(credentials: Self.credentialsFile) { home in
            let environment = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envSecret", "AWS_SESSION_TOKEN": "envToken",
                               "AWS_PROFILE": "ops"]
            let files = try AWSSharedFiles.load(environment: environment, home: home)
            let credentials = try S3Credentials.resolve(environment: environment, files: files)
            #expect(credentials.accessKeyID == "AKIAENV")
            #expect(credentials.secretAccessKey.revealed == "envSecret")
            #expect(credentials.sessionToken?.revealed == "envToken")
            #expect(credentials.source == "environment")
            // An explicitly named profile wins over the environment, as `--profile` does.
            let named = try S3Credentials.resolve(environment: environment, files: files, profile: "ops")
            #expect(named.accessKeyID == "AKIAOPS")
        }
    }

    @Test func profilesFromBothFiles() throws {
        try withHome(credentials: Self.credentialsFile, config: Self.configFile) { home in
            let files = try AWSSharedFiles.load(environment: [:], home: home)
            let standard = try S3Credentials.resolve(environment: [:], files: files)
            #expect(standard.accessKeyID == "AKIADEFAULT")
            #expect(standard.secretAccessKey.revealed == "defaultSecret/+key")
            #expect(standard.sessionToken == nil)
            #expect(standard.source == "profile \"default\" in \(home)/.aws/credentials")

            let ops = try S3Credentials.resolve(environment: ["AWS_PROFILE": "ops"], files: files)
            #expect(ops.accessKeyID == "AKIAOPS")
            #expect(ops.sessionToken?.revealed == "opsToken")

            let store = try S3Credentials.resolve(environment: ["AWS_PROFILE": "store"], files: files)
            #expect(store.accessKeyID == "AKIASTORE")
            #expect(files.config["store"]?["s3.addressing_style"] == "path")
        }
    }

    @Test func configurationTakesRegionAndEndpointInOrder() throws {
        try withHome(credentials: Self.credentialsFile, config: Self.configFile) { home in
            let plain = try S3Configuration.resolve(environment: [:], home: home)
            #expect(plain.region == "eu-west-3")
            #expect(plain.endpoint.description == "https://s3.eu-west-3.amazonaws.com")

            let store = try S3Configuration.resolve(environment: ["AWS_PROFILE": "store"], home: home)
            #expect(store.region == "eu-central-1")
            #expect(store.endpoint.description == "http://127.0.0.1:9000")
            #expect(store.addressing(for: "bucket") == .path)

            let environment = ["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-west-2",
                               "AWS_ENDPOINT_URL": "http://generic:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"]
            let fromEnvironment = try S3Configuration.resolve(environment: environment, home: home)
            #expect(fromEnvironment.region == "ap-south-1")
            #expect(fromEnvironment.endpoint.description == "http://s3only:2")
            let argument = try S3Configuration.resolve(endpointArgument: "https://objects.example:8443/base/", environment: environment, home: home)
            #expect(argument.endpoint.description == "https://objects.example:8443/base")
            #expect(argument.endpoint.basePath == "/base")
            let generic = try S3Configuration.resolve(environment: ["AWS_DEFAULT_REGION": "us-west-2", "AWS_ENDPOINT_URL": "http://generic:1"], home: home)
            #expect(generic.region == "us-west-2")
            #expect(generic.endpoint.description == "http://generic:1")
        }
    }

    @Test func explicitFilePathsAreHonoured() throws {
        try withHome { home in
            let path = home + "/elsewhere-credentials"
            try "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = fileSecret\n".write(toFile: path, atomically: true, encoding: .utf8)
            let files = try AWSSharedFiles.load(environment: ["AWS_SHARED_CREDENTIALS_FILE": path], home: home)
            #expect(try S3Credentials.resolve(environment: [:], files: files).accessKeyID == "AKIAFILE")
        }
    }

    @Test func missingAndUnsupportedCredentialsSayWhy() throws {
        try withHome(credentials: Self.credentialsFile, config: Self.configFile) { home in
            let files = try AWSSharedFiles.load(environment: [:], home: home)
            let unknown = #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: ["AWS_PROFILE": "nope"], files: files) }
            #expect(unknown?.kind == .credentials)
            #expect(unknown?.description.contains("the profile \"nope\" is in neither \(home)/.aws/credentials or \(home)/.aws/config") == true)

            let sso = #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: ["AWS_PROFILE": "sso"], files: files) }
            #expect(sso?.description.contains("sso_session, which redkeep does not support") == true)

            let half = #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKIAHALF"], files: files) }
            #expect(half?.description.contains("AWS_SECRET_ACCESS_KEY is not") == true)
        }
        try withHome { home in
            let files = try AWSSharedFiles.load(environment: [:], home: home)
            let none = #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: [:], files: files) }
            #expect(none?.kind == .credentials)
            #expect(none?.description.contains("no S3 credentials") == true)
        }
    }

    @Test func secretsNeverPrint() throws {
        let credentials = S3Credentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: S3Secret("hunter2secret"),
                                        sessionToken: S3Secret("tokenvalue"), source: "environment")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(describing: credentials), String(reflecting: credentials), dumped,
                     "\(credentials.secretAccessKey)", String(reflecting: credentials.sessionToken as Any)] {
            #expect(!text.contains("hunter2secret"))
            #expect(!text.contains("tokenvalue"))
        }
        #expect("\(credentials)" == "access key AKIAVISIBLE (from environment)")
    }
}
