extension SecretFilter {
    /// The UTF-8 byte ranges of `line` that hold passwords, for hiding them in place where
    /// the text cannot change length (the process's own argv, which `ps` shows). With
    /// `commands` false only the rules that hold for any text (password options,
    /// `REDISCLI_AUTH=`, URLs): for a value that is not a statement, such as a `-u` URL.
    public static func secretByteRanges(in line: String, commands: Bool = true) -> [Range<Int>] {
        SecretScan(Array(line.utf8), commands: commands).spans
    }
}
