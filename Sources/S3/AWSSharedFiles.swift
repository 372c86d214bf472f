import Foundation

/// The AWS CLI's shared files, `~/.aws/credentials` and `~/.aws/config` (or the files
/// `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` name), read the way every AWS tool
/// reads them: INI sections, `[NAME]` in the credentials file, `[profile NAME]` (or
/// `[default]`) in the config file, `key = value` lines, `#` and `;` comment lines, and
/// indented lines under an empty `key =` read as `key.subkey`.
public struct AWSSharedFiles: Sendable {
    /// The credentials file's path (it may not exist).
    public let credentialsPath: String
    /// The config file's path (it may not exist).
    public let configPath: String
    /// Settings of each profile in the credentials file.
    public let credentials: [String: [String: String]]
    /// Settings of each profile in the config file (`[profile ops]` is stored as `ops`).
    public let config: [String: [String: String]]

    /// Reads both files; a missing file counts as empty, an unreadable one is an error.
    /// `home` is the home folder (`HOME` by default), passed in so tests can use their own.
    public static func load(environment: [String: String], home: String?) throws(S3Error) -> AWSSharedFiles {
        let home = home ?? environment["HOME"] ?? NSHomeDirectory()
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"].map { expand($0, home: home) } ?? "\(home)/.aws/credentials"
        let configPath = environment["AWS_CONFIG_FILE"].map { expand($0, home: home) } ?? "\(home)/.aws/config"
        let credentials = parse(try read(credentialsPath)).reduce(into: [String: [String: String]]()) { $0[$1.key] = $1.value }
        var config: [String: [String: String]] = [:]
        for (section, values) in parse(try read(configPath)) {
            // The config file names profiles `[profile NAME]`, except `[default]`; other
            // sections (`[sso-session x]`, `[services y]`) are not profiles.
            if section == "default" {
                config["default"] = values
            } else if section.hasPrefix("profile ") {
                config[section.dropFirst("profile ".count).trimmingCharacters(in: .whitespaces)] = values
            }
        }
        return AWSSharedFiles(credentialsPath: credentialsPath, configPath: configPath, credentials: credentials, config: config)
    }

    /// True when either file has a section for `profile`.
    public func hasProfile(_ profile: String) -> Bool { credentials[profile] != nil || config[profile] != nil }

    /// A profile's setting: the credentials file first, then the config file.
    public func value(_ name: String, profile: String) -> String? {
        if let value = credentials[profile]?[name], !value.isEmpty { return value }
        if let value = config[profile]?[name], !value.isEmpty { return value }
        return nil
    }

    /// Parses INI text into sections of `key: value`, keys lower-cased.
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var parent: String?
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                parent = nil
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let indented = raw.first == " " || raw.first == "\t"
            if indented, let parent {
                sections[section]?["\(parent).\(key)"] = value
            } else {
                sections[section]?[key] = value
                parent = value.isEmpty ? key : nil
            }
        }
        return sections
    }

    private static func read(_ path: String) throws(S3Error) -> String {
        guard FileManager.default.fileExists(atPath: path) else { return "" }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw S3Error(.credentials, operation: "read the AWS settings file", reason: "cannot read \(path): \(error.localizedDescription)")
        }
    }

    private static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }
}
