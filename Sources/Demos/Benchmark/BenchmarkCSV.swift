import Foundation

/// `--save FILE.csv` and `benchmark report FILE...`: benchmark rows as CSV, one header line
/// then one line per row. Written to a temporary name, fsync'd and renamed, so a file is
/// whole or absent.
public enum BenchmarkCSV {
    /// The header every file starts with.
    public static let header = "benchmark,label,clients,calls,commands,seconds,calls_per_second,commands_per_second,p50_us,p99_us,p999_us,reference_per_second"

    /// The file's text.
    public static func text(_ rows: [BenchmarkRow]) -> String {
        func number(_ d: Double?) -> String { d.map { String(format: "%.3f", $0) } ?? "" }
        var lines = [header]
        for row in rows {
            lines.append([quoted(row.benchmark), quoted(row.label), String(row.clients), String(row.calls), String(row.commands),
                          number(row.seconds), number(row.callsPerSecond), number(row.commandsPerSecond),
                          number(row.p50), number(row.p99), number(row.p999), number(row.reference)].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `rows` to `path` atomically.
    public static func write(_ rows: [BenchmarkRow], to path: String) throws {
        try writeAtomically(text(rows), to: path)
    }

    /// Reads a file `write` made; errors name the file and the line.
    public static func read(_ path: String) throws -> [BenchmarkRow] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BenchmarkError(.files, "cannot read \(path): \((error as NSError).localizedDescription)", path: path, underlying: error)
        }
        var lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        guard let first = lines.first, first == header else {
            throw BenchmarkError(.badCSV, "\(path) is not a benchmark CSV: line 1 should be \"\(header)\" (files made with --save FILE.csv)", path: path)
        }
        lines.removeFirst()
        var rows: [BenchmarkRow] = []
        for (i, line) in lines.enumerated() where !line.isEmpty {
            let fields = split(line)
            func fail(_ why: String) -> BenchmarkError { BenchmarkError(.badCSV, "\(path):\(i + 2): \(why)", path: path) }
            guard fields.count == 12 else { throw fail("expected 12 fields, found \(fields.count)") }
            guard let clients = Int(fields[2]), let calls = Int(fields[3]), let commands = Int(fields[4]),
                  let seconds = Double(fields[5]) else {
                throw fail("clients, calls, commands and seconds must be numbers")
            }
            rows.append(BenchmarkRow(benchmark: fields[0], label: fields[1], clients: clients, calls: calls, commands: commands,
                                     seconds: seconds, p50: Double(fields[8]), p99: Double(fields[9]), p999: Double(fields[10]),
                                     reference: Double(fields[11])))
        }
        return rows
    }

    static func quoted(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func split(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if inQuotes {
                if c == "\"" {
                    if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { inQuotes = false }
                } else { current.append(c) }
            } else if c == "\"" {
                inQuotes = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}

/// Writes `text` to a temporary file next to `path`, fsyncs it and renames it over `path`.
func writeAtomically(_ text: String, to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchmarkError(.files, "cannot write \(temporary): \(String(cString: strerror(errno)))", path: path) }
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw BenchmarkError(.files, "cannot write \(temporary): \(reason)", path: path)
        }
        written += n
    }
    guard fsync(fd) == 0 else {
        let reason = String(cString: strerror(errno))
        close(fd)
        unlink(temporary)
        throw BenchmarkError(.files, "cannot fsync \(temporary): \(reason)", path: path)
    }
    close(fd)
    guard rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw BenchmarkError(.files, "cannot rename \(temporary) to \(path): \(reason)", path: path)
    }
}
