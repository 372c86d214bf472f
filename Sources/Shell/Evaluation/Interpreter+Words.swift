import NIOCore
import RESP

extension Interpreter {
    /// The bytes a word stands for, substitutions filled in.
    func expand(_ word: Word) async throws -> [UInt8] {
        if let bytes = word.literalBytes { return bytes }
        var out: [UInt8] = []
        for part in word.parts {
            switch part {
            case .literal(let bytes):
                out += bytes
            case .variable(let reference):
                let value = try lookup(reference, at: word.location)
                guard let bytes = value.substitutionBytes else {
                    throw ShellError(.script, "\(reference) is a map; name one of its fields, like ${\(reference.name).FIELD}", at: word.location)
                }
                out += bytes
            case .command(let statements, let location):
                let value = try await capture(statements, at: location)
                guard let bytes = value.substitutionBytes else {
                    throw ShellError(.script, "$(...) gave a map; keep it with let NAME = ... and name a field", at: location)
                }
                out += bytes
            }
        }
        return out
    }

    /// Words as text, in order.
    func expandTexts(_ words: ArraySlice<Word>) async throws -> [String] {
        var texts: [String] = []
        for word in words { texts.append(try await expandText(word)) }
        return texts
    }

    /// A word as text.
    func expandText(_ word: Word) async throws -> String {
        String(decoding: try await expand(word), as: UTF8.self)
    }

    /// A word as a value: a lone `$var` or `$(...)` keeps its type (a map stays a map);
    /// anything else is the bulk string of its bytes.
    func value(of word: Word) async throws -> RESPValue {
        if !word.isLiteral, word.parts.count == 1 {
            switch word.parts[0] {
            case .variable(let reference): return try lookup(reference, at: word.location)
            case .command(let statements, let location): return try await capture(statements, at: location)
            case .literal: break
            }
        }
        let bytes = try await expand(word)
        return .bulkString(ByteBuffer(bytes: bytes))
    }

    /// Runs statements without printing and returns the last one's value.
    func capture(_ statements: [Statement], at location: SourceLocation) async throws -> RESPValue {
        quiet += 1
        defer { quiet -= 1 }
        var last: RESPValue = .null
        for statement in statements {
            last = try await execute(statement, capturing: true) ?? .null
        }
        return last
    }

    /// A variable's value, following `.field` and `[index]`.
    func lookup(_ reference: VariableReference, at location: SourceLocation) throws -> RESPValue {
        var value: RESPValue
        let arguments = configuration.arguments
        switch reference.name {
        case "#":
            value = .integer(Int64(max(0, arguments.count - 1)))
        case let digit where digit.count == 1 && digit.first!.isNumber:
            let i = Int(digit)!
            guard i < arguments.count else {
                throw ShellError(.script, "$\(i) is not set: the script got \(max(0, arguments.count - 1)) argument(s)", at: location)
            }
            value = .bulk(arguments[i])
        default:
            guard let stored = variables[reference.name] else {
                throw ShellError(.script, "undefined variable $\(reference.name)", at: location)
            }
            value = stored
        }
        var walked = reference.name
        for step in reference.path {
            switch step {
            case .field(let name):
                if value.field(name) == nil, let text = value.string, text.contains(":") {
                    value = .infoReport(text)  // an INFO reply kept as text
                }
                guard let next = value.field(name) else {
                    let fields: [String]
                    if case .map(let pairs) = value { fields = pairs.prefix(12).compactMap { $0.key.string } } else { fields = [] }
                    let hint = fields.isEmpty ? "it is not a map" : "its fields: " + fields.joined(separator: ", ") + (fields.count == 12 ? ", ..." : "")
                    throw ShellError(.script, "${\(walked)} has no field \"\(name)\" (\(hint))", at: location)
                }
                value = next
                walked += "." + name
            case .index(let i):
                guard let elements = value.elements else {
                    throw ShellError(.script, "${\(walked)} is not an array, so [\(i)] means nothing", at: location)
                }
                let index = i < 0 ? elements.count + i : i
                guard elements.indices.contains(index) else {
                    throw ShellError(.script, "${\(walked)}[\(i)] is out of range: it has \(elements.count) element(s)", at: location)
                }
                value = elements[index]
                walked += "[\(i)]"
            }
        }
        return value
    }
}
