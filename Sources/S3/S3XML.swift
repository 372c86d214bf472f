/// One element of the small XML documents S3 answers with (`ListBucketResult`, `Error`,
/// `InitiateMultipartUploadResult`...): its name, its text, its child elements.
struct S3XMLElement: Sendable, Hashable {
    var name: String
    var text: String = ""
    var children: [S3XMLElement] = []

    /// The first child called `name`.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }

    /// Every child called `name`, in order.
    func children(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child called `name`.
    func value(_ name: String) -> String? { child(name)?.text }
}

/// A parser for S3's answers: elements, text, entities and CDATA. Attributes, comments,
/// processing instructions and namespaces prefixes are skipped; S3 documents need nothing
/// more, and a full XML parser would pull in libxml2.
enum S3XML {
    /// The document's root element, or nil when the text is not well-formed enough.
    static func parse(_ text: String) -> S3XMLElement? {
        let bytes = Array(text.utf8)
        var stack: [S3XMLElement] = []
        var root: S3XMLElement?
        var index = 0
        func starts(_ literal: String, at position: Int) -> Bool {
            let pattern = Array(literal.utf8)
            return position + pattern.count <= bytes.count && Array(bytes[position..<position + pattern.count]) == pattern
        }
        func find(_ literal: String, from position: Int) -> Int? {
            var at = position
            while at < bytes.count {
                if starts(literal, at: at) { return at }
                at += 1
            }
            return nil
        }
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                let end = bytes[index...].firstIndex(of: UInt8(ascii: "<")) ?? bytes.count
                if !stack.isEmpty { stack[stack.count - 1].text += decodeEntities(String(decoding: bytes[index..<end], as: UTF8.self)) }
                index = end
                continue
            }
            if starts("<![CDATA[", at: index) {
                guard let end = find("]]>", from: index) else { return nil }
                if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: bytes[(index + 9)..<end], as: UTF8.self) }
                index = end + 3
            } else if starts("<!--", at: index) {
                guard let end = find("-->", from: index) else { return nil }
                index = end + 3
            } else if starts("<?", at: index) || starts("<!", at: index) {
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
                index = end + 1
            } else {
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
                var inside = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                index = end + 1
                if inside.hasPrefix("/") {
                    let name = localName(String(inside.dropFirst()).trimmingSpaces)
                    guard let element = stack.popLast(), element.name == name else { return nil }
                    if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
                    continue
                }
                let selfClosing = inside.hasSuffix("/")
                if selfClosing { inside.removeLast() }
                let name = localName(String(inside.prefix { !$0.isWhitespace }))
                guard !name.isEmpty else { return nil }
                let element = S3XMLElement(name: name)
                if selfClosing {
                    if stack.isEmpty { root = element } else { stack[stack.count - 1].children.append(element) }
                } else {
                    stack.append(element)
                }
            }
        }
        return stack.isEmpty ? root : nil
    }

    /// `s3:Key` -> `Key`.
    private static func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    /// Replaces `&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&#NN;` `&#xNN;`.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
            }
            if let replacement {
                out += replacement
                rest = rest[rest.index(after: semi)...]
            } else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
            }
        }
        return out + rest
    }

    /// Escapes text for an element's content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
