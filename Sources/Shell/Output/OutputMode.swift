/// How redkeep prints the value of a statement.
///
/// The three modes follow redis-cli's: `human` is what redis-cli prints on a terminal,
/// `raw` is what it prints with `--raw` (or when stdout is not a terminal), `json` is close to
/// `--json` but always produces valid JSON (see ``ReplyFormatter``).
public enum OutputMode: String, Sendable, CaseIterable {
    /// redis-cli's terminal look (`1) "a"`, `(integer) 7`, `(nil)`), and aligned tables for reports.
    case human
    /// redis-cli's `--raw` look: bytes as they are, one element per line; reports as `key:value` lines.
    case raw
    /// One JSON document per value, on one line.
    case json
}
