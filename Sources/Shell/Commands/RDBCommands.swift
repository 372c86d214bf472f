import ArgumentParser
import Operations
import RDB
import RESP

/// `rdb check FILE`: the RDB counterpart of `aof check`.
struct RdbCommand: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "rdb", abstract: "Check an RDB file (dump.rdb, or an AOF base that is an RDB).",
        discussion: """
        rdb check FILE: reads the whole file as redis-check-rdb does, decoding every
        value (LZF, listpacks, ziplists, streams): the RDB version, the CRC-64 trailer,
        the aux fields, keys per database by type with expiries and value bytes,
        functions, notes on module data, and the first problem with its byte offset.
        A problem ends a script with exit code 3; ${r.valid} tells a script's `if`.
        """)
    @Argument(help: "check.") var action: String
    @Argument(help: "The RDB file.") var file: String?

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        guard action == "check" else { throw ShellError(.usage, "rdb \(action): unknown action; use check", at: invocation.location) }
        guard let file else { throw ShellError(.usage, "rdb check: give the RDB file to check", at: invocation.location) }
        let report = await ArchiveIO.run { RDBFileCheck.check(path: file) }
        if let problem = report.problem {
            let read = report.version > 0 ? " (RDB version \(report.version), \(report.keys) keys read before it)" : ""
            throw ShellError(.script, "rdb check \(file): not valid \(problem)\(read)", at: invocation.location)
        }
        return Self.fields(file, report)
    }

    /// The header as the file spells it: `REDIS0011` (four digits), `VALKEY080` (three).
    static func magic(_ report: RDBCheckReport) -> String {
        let (name, digits) = report.valkey ? ("VALKEY", 3) : ("REDIS", 4)
        let version = String(report.version)
        return name + String(repeating: "0", count: max(0, digits - version.count)) + version
    }

    /// The report as a table.
    static func fields(_ file: String, _ report: RDBCheckReport) -> RESPValue {
        var fields: [(String, RESPValue)] = [
            ("path", .text(file)),
            ("valid", .boolean(report.isValid)),
            ("version", .text(Self.magic(report))),
        ]
        switch report.checksum {
        case .verified(let crc): fields.append(("checksum", .text("CRC-64 0x\(String(crc, radix: 16)) verified")))
        case .notWritten: fields.append(("checksum", .text("none (written with rdbchecksum no)")))
        case nil: break
        }
        if let length = report.length { fields.append(("rdb_bytes", .integer(Int64(length)))) }
        if !report.aux.isEmpty { fields.append(("aux", .report(report.aux.map { ($0.name, .text($0.value)) }))) }
        fields.append(("keys", .integer(Int64(report.keys))))
        fields.append(("databases", .array(report.databases.map { db in
            .report([("db", .integer(Int64(db.number))), ("keys", .integer(Int64(db.keys))),
                     ("expiring", .integer(Int64(db.expiringKeys))),
                     ("by_type", .text(db.keysByType.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))),
                     ("value_bytes", .integer(Int64(db.valueBytes)))])
        })))
        if report.functions > 0 { fields.append(("functions", .integer(Int64(report.functions)))) }
        if !report.notes.isEmpty { fields.append(("notes", .array(report.notes.prefix(100).map { .text($0) }))) }
        return .report(fields)
    }
}
