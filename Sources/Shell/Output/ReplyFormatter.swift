import NIOCore
import RESP

/// Turns the value of one redkeep statement into the text printed for it.
///
/// Two kinds of values reach the formatter:
/// - **Redis replies**, printed exactly as redis-cli 7 prints them (`human` is its terminal look,
///   `raw` its `--raw` look);
/// - **reports**, the values of redkeep's own commands: RESP3 maps keyed by simple strings
///   (Redis itself keys its maps with bulk strings, so the two never mix up). See ``isReport(_:)``.
///
/// ### Human mode
/// redis-cli's `cliFormatReplyTTY`: bulk strings quoted with `sdscatrepr` escaping
/// (`"a\"b\n\x00"`), status replies bare (`OK`), `(error) ERR ...`, `(integer) 7`,
/// `(double) 3.14`, `(nil)`, `(true)`/`(false)`, verbatim strings as their text,
/// `(empty array)`/`(empty hash)`/`(empty set)`/`(empty push)`, aggregates numbered `1) `
/// (sets `1~ `, maps `1# key => value`, push messages like arrays, as redis-cli does), numbers
/// right-aligned to the widest index, nested aggregates indented under their number.
/// Additions redis-cli lacks (hiredis cannot read these types): big numbers print as
/// `(big number) 123`, and attributes are not shown, only the value they describe.
///
/// redis-cli prints the replies of a few commands (`INFO`, `CLIENT LIST`, ...) as raw text
/// whatever the mode; the formatter cannot know the command, so the caller asks
/// ``printsVerbatim(command:)`` and uses ``format(_:verbatim:)``.
///
/// Doubles are printed from their value (redkeep keeps a `Double`, not Redis's text), in the
/// shortest form that reads back the same (`1e-07`); Redis 7.0 writes some with 17 digits
/// (`9.9999999999999995e-08`), which redis-cli shows as received.
///
/// A report prints as an aligned two-column table (see *Reports in human mode* below); a
/// non-empty array whose elements are all reports prints as a table with one row per report.
///
/// With `color` on: errors red, `(nil)`/`(empty ...)`/`-` dim, `(integer)`/`(double)`/
/// `(big number)`/`(true)`/`(false)` cyan, report table headers bold. Strings are never coloured,
/// and raw and JSON output never carry colour.
///
/// ### Raw mode
/// redis-cli's `cliFormatReplyRaw` followed by a newline: strings as their bytes (no quotes, no
/// escaping), integers as digits, doubles as text (`3.14`, `inf`), booleans `(true)`/`(false)`,
/// nil as nothing (an empty line at top level), errors as their text followed by a newline (so a
/// top-level error is followed by an empty line, as in redis-cli), aggregates one element per
/// line with nested aggregates flattened, maps as `key value` lines. One difference, on purpose:
/// an empty aggregate at top level prints nothing at all (redis-cli prints an empty line), so
/// that `while read` loops over an empty result run zero times.
///
/// Reports in raw mode print as `path:value` lines, like `INFO`: nested reports extend the path
/// with `.field`, elements of arrays with `.0`, `.1`... (0-based, as INFO's `slave0`), for
/// example `replicas.0.addr:127.0.0.1:6380`. Values are raw, except that CR and LF are written
/// `\r` and `\n` to keep one field per line; nil is an empty value, booleans are `yes`/`no`, an
/// empty aggregate is an empty value. A top-level array of reports uses the index as the first
/// path segment (`0.addr:...`).
///
/// ### JSON mode
/// One document on one line: strings (simple, bulk, verbatim) as JSON strings, integers as
/// numbers, finite doubles as numbers and `inf`/`-inf`/`nan` as the strings `"inf"`, `"-inf"`,
/// `"nan"`, nil as `null`, booleans as `true`/`false`, big numbers as strings, arrays, sets and
/// push messages as arrays, maps as objects when every key is a string (simple, bulk or
/// verbatim) and otherwise as an array of `[key, value]` pairs, errors as
/// `{"error":"ERR ..."}`, attributes dropped (the value they describe is printed). Bytes that are
/// not valid UTF-8 become U+FFFD. redis-cli's `--json` differs where its output is not valid
/// JSON (`error:"..."`, bare `inf`) and where it turns non-string map keys into strings.
///
/// ### Reports in human mode
/// ```
/// role     master
/// port     6379
/// healthy  yes
/// replicas:
///   addr            state   offset
///   127.0.0.1:6380  online  1234
///   127.0.0.1:6381  -       0
/// ```
/// Keys are padded to the longest key of the level; scalars are shown plainly (strings
/// unquoted, with control characters and invalid UTF-8 escaped as `\n`, `\xhh`; integers and
/// doubles as digits; booleans `yes`/`no`; nil `-`; errors `(error) ...`), an array of scalars
/// as its elements joined by `, `, an empty aggregate as `(none)`. A field holding a report is
/// drawn under a `field:` line, indented by 2; a field holding a non-empty array of reports is
/// drawn the same way as a sub-table whose columns are the union of the rows' keys in order of
/// first appearance, with `-` for a missing cell. Any other value (a Redis reply kept in a report)
/// is drawn under its `field:` line in redis-cli's look. Inside a table cell, values that do
/// not fit on one line are written in compact JSON.
public struct ReplyFormatter: Sendable {
    /// The output mode.
    public var mode: OutputMode
    /// Whether to use ANSI colours; only meaningful for ``OutputMode/human``.
    public var color: Bool

    /// Creates a formatter for `mode`, with ANSI colours when `color` is true (human mode only).
    public init(mode: OutputMode, color: Bool) {
        self.mode = mode
        self.color = color
    }

    /// The full text to print for one statement's value, ending in "\n" (nothing at all for an
    /// empty aggregate in raw mode).
    ///
    /// Raw mode writes Redis strings as their bytes; bytes that are not valid UTF-8 become
    /// U+FFFD in this `String`. Use ``formatBytes(_:)`` to write them exactly.
    public func format(_ value: RESPValue) -> String {
        String(decoding: formatBytes(value), as: UTF8.self)
    }

    /// The exact bytes to print for one statement's value: the same text as ``format(_:)``,
    /// without repairing invalid UTF-8 (raw mode prints binary strings byte for byte).
    public func formatBytes(_ value: RESPValue) -> [UInt8] {
        var out = OutputBytes()
        render(value, into: &out)
        return out.bytes
    }

    /// Appends the bytes of ``formatBytes(_:verbatim:)`` to `out`: the interpreter
    /// renders a run of values into one buffer, not an array each.
    func render(_ value: RESPValue, verbatim: Bool = false, into out: inout OutputBytes) {
        if verbatim && mode != .json {
            let start = out.bytes.count
            ReplyRawRenderer.render(value, into: &out)
            if out.bytes.count > start, out.bytes.last != UInt8(ascii: "\n") { out.append(UInt8(ascii: "\n")) }
            return
        }
        switch mode {
        case .human:
            if ReplyFormatter.isReport(value) || ReplyFormatter.isReportList(value) {
                ReportTableRenderer(color: color).render(value, into: &out)
            } else {
                ReplyHumanRenderer(color: color).render(value, prefix: "", into: &out)
            }
        case .raw:
            if ReplyFormatter.isReport(value) || ReplyFormatter.isReportList(value) {
                ReplyRawRenderer.renderReport(value, into: &out)
            } else if !ReplyFormatter.isEmptyAggregate(value) {
                ReplyRawRenderer.render(value, into: &out)
                out.append(UInt8(ascii: "\n"))
            }
        case .json:
            ReplyJSONRenderer.render(value, into: &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// The text to print for the reply of a command that redis-cli prints verbatim (see
    /// ``printsVerbatim(command:)``): in human and raw mode, the reply as raw text
    /// (`cliFormatReplyRaw`: `INFO`'s text as it is, not quoted and escaped), followed by a
    /// newline only when it does not already end in one (nothing at all for nil or an empty
    /// aggregate). JSON mode ignores `verbatim`, so that its output stays JSON.
    public func format(_ value: RESPValue, verbatim: Bool) -> String {
        String(decoding: formatBytes(value, verbatim: verbatim), as: UTF8.self)
    }

    /// The exact bytes of ``format(_:verbatim:)``.
    public func formatBytes(_ value: RESPValue, verbatim: Bool) -> [UInt8] {
        var out = OutputBytes()
        render(value, verbatim: verbatim, into: &out)
        return out.bytes
    }

    /// True for the commands whose replies redis-cli prints as raw text even on a terminal
    /// (its `output_raw` list in `cliSendCommand`): `INFO`, `LOLWUT`, `DEBUG HTSTATS`,
    /// `DEBUG HTSTATS-KEY`, `DEBUG CLIENT-EVICTION`, `MEMORY MALLOC-STATS`, `MEMORY DOCTOR`,
    /// `CLUSTER NODES`, `CLUSTER INFO`, `CLIENT LIST`, `CLIENT INFO`, `LATENCY GRAPH <event>`,
    /// `LATENCY DOCTOR`, `PROXY INFO`. `command` is the command's words, name first (any case).
    /// False when no command named `name` (any case) prints verbatim, whatever its
    /// arguments: callers can skip building the other words.
    static func mayPrintVerbatim(lowercasedName name: String) -> Bool {
        switch name {
        case "info", "lolwut", "debug", "memory", "cluster", "client", "latency", "proxy": return true
        default: return false
        }
    }

    public static func printsVerbatim(command: [String]) -> Bool {
        guard let name = command.first?.lowercased() else { return false }
        let argc = command.count
        let sub = argc >= 2 ? command[1].lowercased() : ""
        switch name {
        case "info", "lolwut":
            return true
        case "debug":
            return argc >= 2 && ["htstats", "htstats-key", "client-eviction"].contains(sub)
        case "memory":
            return argc >= 2 && ["malloc-stats", "doctor"].contains(sub)
        case "cluster":
            return argc == 2 && ["nodes", "info"].contains(sub)
        case "client":
            return argc >= 2 && ["list", "info"].contains(sub)
        case "latency":
            return (argc == 3 && sub == "graph") || (argc == 2 && sub == "doctor")
        case "proxy":
            return argc >= 2 && sub == "info"
        default:
            return false
        }
    }

    /// True when `value` is a redkeep report: a non-empty map whose keys are all
    /// `.simpleString` (attributes around the map are looked through).
    ///
    /// An empty map is not a report: it prints as redis-cli prints an empty hash.
    public static func isReport(_ value: RESPValue) -> Bool {
        switch value {
        case .map(let pairs):
            guard !pairs.isEmpty else { return false }
            for pair in pairs {
                guard case .simpleString = pair.key else { return false }
            }
            return true
        case .attributed(_, let inner):
            return isReport(inner)
        default:
            return false
        }
    }

    /// True when `value` is a non-empty array (or set) whose elements are all reports: the rows
    /// of a table.
    public static func isReportList(_ value: RESPValue) -> Bool {
        switch value {
        case .array(let items), .set(let items):
            return !items.isEmpty && items.allSatisfy { isReport($0) }
        case .attributed(_, let inner):
            return isReportList(inner)
        default:
            return false
        }
    }

    /// True for an array, set, push or map without elements.
    static func isEmptyAggregate(_ value: RESPValue) -> Bool {
        switch value {
        case .array(let items), .set(let items), .push(let items): return items.isEmpty
        case .map(let pairs): return pairs.isEmpty
        case .attributed(_, let inner): return isEmptyAggregate(inner)
        default: return false
        }
    }

    /// `value` without the attributes around it.
    static func unwrap(_ value: RESPValue) -> RESPValue {
        var value = value
        while case .attributed(_, let inner) = value { value = inner }
        return value
    }
}
