/// Command names compared as Redis compares them: ASCII letters in any case.
public enum CommandName {
    /// True when `bytes` spell `upperCaseName` in any case. Makes no String: for checks
    /// made on every command (MULTI/EXEC/DISCARD, INFO) by the shell and the
    /// AOF reader.
    public static func matches(_ bytes: UnsafeRawBufferPointer, _ upperCaseName: StaticString) -> Bool {
        guard bytes.count == upperCaseName.utf8CodeUnitCount else { return false }
        return upperCaseName.withUTF8Buffer { wanted in
            for i in 0..<wanted.count {
                var b = bytes[i]
                if b >= 0x61 && b <= 0x7A { b -= 0x20 }
                if b != wanted[i] { return false }
            }
            return true
        }
    }
}
