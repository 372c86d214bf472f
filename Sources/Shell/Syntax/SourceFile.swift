/// The text of a script, a `-c` argument or a prompt entry, kept so errors can quote the
/// offending line with a caret under the word.
public final class SourceFile: Sendable {
    /// What errors call it: a path, `-c`, `<stdin>` or `<prompt>`.
    public let name: String
    /// The whole text, as bytes.
    public let bytes: [UInt8]
    /// Lines before this text in what it was cut from (statements read one by one from
    /// standard input), so errors name the line of the whole input.
    public let lineOffset: Int

    /// Wraps `text` under `name`; `firstLine` is the number of its first line in the input.
    public init(name: String, text: String, firstLine: Int = 1) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.lineOffset = firstLine - 1
    }

    /// Line `number` (1-based), without its line ending; "" past the end.
    public func line(_ number: Int) -> String {
        var current = 1
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            if current == number { return text(start..<i) }
            current += 1
            start = i + 1
        }
        return current == number ? text(start..<bytes.count) : ""
    }

    /// The 1-based line that byte `offset` is on.
    public func lineNumber(at offset: Int) -> Int {
        bytes.withUnsafeBufferPointer { all in
            var newlines = 0
            for byte in all[..<min(max(offset, 0), all.count)] where byte == UInt8(ascii: "\n") { newlines += 1 }
            return newlines + 1
        }
    }

    /// The 1-based column of byte `offset`, in characters: bytes from the line's start for
    /// ASCII (almost every line), decoded characters otherwise.
    public func column(at offset: Int) -> Int {
        let offset = min(max(offset, 0), bytes.count)
        let start = bytes[..<offset].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let prefix = bytes[start..<offset]
        guard prefix.contains(where: { $0 >= 0x80 }) else { return offset - start + 1 }
        return String(decoding: prefix, as: UTF8.self).count + 1
    }

    /// The bytes in `range` as text, with a trailing CR dropped.
    public func text(_ range: Range<Int>) -> String {
        var slice = bytes[range.clamped(to: 0..<bytes.count)]
        if slice.last == UInt8(ascii: "\r") { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// Where something is in a source: the file and the byte offset. The line and column
/// (both 1-based; the column counts characters) are worked out from the offset when asked
/// for, which only error messages do: storing them made every word 16 bytes bigger and
/// the lexer count columns for every word of a long script.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The source it points into.
    public let file: SourceFile
    /// Byte offset in the source.
    public let offset: Int

    /// Creates a location.
    public init(file: SourceFile, offset: Int) {
        self.file = file
        self.offset = offset
    }

    /// 1-based line.
    public var line: Int { file.lineNumber(at: offset) }
    /// 1-based column, in characters.
    public var column: Int { file.column(at: offset) }

    /// `file:line:column`.
    public var description: String { "\(file.name):\(line + file.lineOffset):\(column)" }

    public static func == (a: SourceLocation, b: SourceLocation) -> Bool {
        a.file === b.file && a.offset == b.offset
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(offset) }
}
