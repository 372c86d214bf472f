extension S3Credentials {
    /// Finds credentials the way the AWS CLI does:
    ///
    /// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), unless a
    ///    profile was named explicitly (`profile`);
    /// 2. else the profile `profile`, or `AWS_PROFILE`, or `default`: `aws_access_key_id`,
    ///    `aws_secret_access_key` and `aws_session_token` from the credentials file, then
    ///    from the config file.
    ///
    /// Profiles that get their keys another way (`role_arn`, `sso_session`,
    /// `credential_process`) are refused with a message saying so.
    public static func resolve(environment: [String: String], files: AWSSharedFiles, profile explicitProfile: String? = nil) throws(S3Error) -> S3Credentials {
        func failure(_ reason: String) -> S3Error { S3Error(.credentials, operation: "find S3 credentials", reason: reason) }
        if explicitProfile == nil {
            let id = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
            let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            switch (id, secret) {
            case let (id?, secret?):
                let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : S3Secret($0) }
                return S3Credentials(accessKeyID: id, secretAccessKey: S3Secret(secret), sessionToken: token, source: "environment")
            case (_?, nil):
                throw failure("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or neither to use a profile")
            case (nil, _?):
                throw failure("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both, or neither to use a profile")
            case (nil, nil):
                break
            }
        }
        let named = explicitProfile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let profile = named ?? "default"
        let whereToLook = "\(files.credentialsPath) or \(files.configPath)"
        guard files.hasProfile(profile) else {
            if named != nil { throw failure("the profile \"\(profile)\" is in neither \(whereToLook)") }
            throw failure("""
                no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and there is no \
                [default] profile in \(whereToLook); set them, or AWS_PROFILE to a profile with \
                aws_access_key_id and aws_secret_access_key
                """)
        }
        let source = "profile \"\(profile)\" in \(files.credentials[profile] != nil ? files.credentialsPath : files.configPath)"
        guard let id = files.value("aws_access_key_id", profile: profile),
              let secret = files.value("aws_secret_access_key", profile: profile) else {
            let other = ["role_arn", "sso_session", "sso_start_url", "credential_process", "web_identity_token_file"]
                .first { files.value($0, profile: profile) != nil }
            if let other {
                throw failure("the profile \"\(profile)\" gets its keys through \(other), which redkeep does not support; give it aws_access_key_id and aws_secret_access_key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            }
            let missing = files.value("aws_access_key_id", profile: profile) == nil ? "aws_access_key_id" : "aws_secret_access_key"
            throw failure("the profile \"\(profile)\" in \(whereToLook) has no \(missing)")
        }
        let token = files.value("aws_session_token", profile: profile).map(S3Secret.init)
        return S3Credentials(accessKeyID: id, secretAccessKey: S3Secret(secret), sessionToken: token, source: source)
    }
}
