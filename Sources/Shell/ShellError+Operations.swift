import Demos
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
        case let e as any KindedFailure:
            message = e.message
            kind = e.shellKind
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
        case .invalidAddress, .tlsNotSupported: .usage
        default: .connection
        }
    }
}

/// An error of the layers below with a message and a kind, which decides its exit code.
protocol KindedFailure: Error {
    /// The whole message.
    var message: String { get }
    /// The shell's kind (and so exit code) for this error's kind.
    var shellKind: ShellError.Kind { get }
}

// As for every error: a request the shell could have refused (a bad name, a bound, the
// same server twice) ends a script with 1, a server that cannot be reached with 2, and
// the rest with 3. Each kind is listed so that a new one needs a decision.

extension LabError: KindedFailure {
    var shellKind: ShellError.Kind {
        switch kind {
        case .invalidName: .usage
        case .binaryMissing, .alreadyExists, .notFound, .notRunning, .portUnavailable,
             .startFailed, .stopFailed, .timeout, .tls, .files: .script
        }
    }
}

extension ReplicationError: KindedFailure {
    var shellKind: ShellError.Kind {
        switch kind {
        case .invalidRequest: .usage
        case .connection: .connection
        case .timeout, .refused, .wrongRole, .unsafe, .sentinel, .mismatch, .files, .stopped: .script
        }
    }
}

extension PersistenceError: KindedFailure {
    /// A save or rewrite whose connection failed ends with 2, as any lost connection.
    var shellKind: ShellError.Kind {
        switch kind {
        case .connection: .connection
        case .failed, .timeout, .refused, .file: .script
        }
    }
}

extension MarketError: KindedFailure {
    var shellKind: ShellError.Kind {
        switch kind {
        case .invalidRequest: .usage
        case .notFound, .badState, .serverError: .script
        }
    }
}

extension BenchmarkError: KindedFailure {
    var shellKind: ShellError.Kind {
        switch kind {
        case .invalidRequest: .usage
        case .serverError, .badCSV, .files: .script
        }
    }
}
