/// An error in the redkeep language: what went wrong, where in the script, and which exit
/// code it ends a script with.
public struct ShellError: Error, Sendable, CustomStringConvertible {
    /// The kind decides the exit code (LANGUAGE.md): usage 1, connection 2, script 3.
    public enum Kind: Sendable, Hashable {
        /// The text is not a valid statement (exit 1).
        case syntax
        /// The text stops in the middle of a statement: a quote, `$(`, `{` or a `\`
        /// continuation is still open. At the prompt this asks for more lines.
        case incomplete
        /// A command was called wrongly: unknown option, missing argument (exit 1).
        case usage
        /// Could not connect, or the connection was lost (exit 2).
        case connection
        /// The script failed: assert, error reply under on-error stop, undefined variable,
        /// a transaction out of retries, a failed operation (exit 3).
        case script
        /// redkeep itself failed (exit 1).
        case `internal`
    }

    /// The kind.
    public var kind: Kind
    /// The message, without the location.
    public var message: String
    /// Where it happened, when known.
    public var location: SourceLocation?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, at location: SourceLocation? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
    }

    /// The exit code a script ends with because of this error.
    public var exitCode: Int32 {
        switch kind {
        case .syntax, .incomplete, .usage, .internal: return 1
        case .connection: return 2
        case .script: return 3
        }
    }

    /// `file:line:column: message`, then the line and a caret under the column
    /// (the line and caret only for scripts and -c, where there is a line to show).
    public var description: String {
        // The message may quote an argument: the statement's passwords are hidden in it too.
        let shown = SecretFilter.redactMessage(message, about: location?.line, of: location?.file)
        // At the prompt the person just typed the line; the message alone reads best.
        guard let location, location.file.name != "<prompt>" else { return shown }
        // The line is shown back as typed, less any password on it.
        let lineText = SecretFilter.redactedLine(location.line, of: location.file)
        var out = "\(location): \(shown)"
        if !lineText.isEmpty {
            // Tabs stay tabs so the caret lines up under the word.
            let pad = lineText.prefix(max(0, location.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
            out += "\n    \(lineText)\n    \(pad)^"
        }
        return out
    }

    /// This error, with a location if it had none.
    public func located(at location: SourceLocation?) -> ShellError {
        var copy = self
        if copy.location == nil { copy.location = location }
        return copy
    }
}
