import Operations
import RedisClient

extension ShellError {
    /// The one place where the errors of the layers below become the shell's, and so
    /// its exit codes: a connection that failed is 2, a request the shell could have
    /// refused (a bad option or name) is 1, everything the operation itself found (a
    /// damaged archive, a refused target, an error reply) is 3. `doing` is prefixed:
    /// `replay-until 2026-11-20 15:12:01: ...`.
    static func from(_ error: any Error, doing: String, at location: SourceLocation?) -> ShellError {
        if let error = error as? ShellError { return error.located(at: location) }
        let kind: Kind
        let message: String
        switch error {
        case let e as RestoreError:
            message = e.message
            switch e.kind {
            case .invalidRequest: kind = .usage
            case .target: kind = (e.underlying as? RedisClientError).map(Self.kind(of:)) ?? .script
            case .archiveUnavailable, .notInArchive, .damagedArchive, .refusedTarget, .destination: kind = .script
            }
        case let e as ArchiveError:
            message = e.message
            switch e.kind {
            case .invalidRequest: kind = .usage
            case .unreachable: kind = .connection
            default: kind = .script
            }
        case let e as CollectorError:
            message = e.message
            switch e.kind {
            case .connection: kind = .connection
            case .invalidRequest: kind = .usage
            case .archive where e.archiveKind == .unreachable: kind = .connection
            case .source, .archive: kind = .script
            }
        case let e as RedisClientError:
            message = e.message
            kind = Self.kind(of: e)
        default:
            message = "\(error)"
            kind = .script
        }
        return ShellError(kind, doing.isEmpty ? message : "\(doing): \(message)", at: location)
    }

    /// Connection failures end a script with 2; an error reply with 3.
    static func kind(of error: RedisClientError) -> Kind {
        switch error.kind {
        case .serverError, .unexpectedReply: .script
        case .invalidAddress: .usage
        default: .connection
        }
    }
}
