import NIOCore
import RESP

/// Reports in human mode: aligned two-column tables, with sub-tables for lists of reports.
/// See ``ReplyFormatter`` for the layout.
struct ReportTableRenderer {
    /// ANSI colours on.
    var color: Bool

    /// Spaces between the columns of a table (and between a key and its value).
    static let gap = "  "
    /// Extra indentation of what is drawn under a `field:` line.
    static let nesting = 2

    /// Appends a report, or a list of reports, each line ending in a newline.
    func render(_ value: RESPValue, into out: inout OutputBytes) {
        let lines: [String]
        switch ReplyFormatter.unwrap(value) {
        case .map(let pairs):
            lines = fieldLines(pairs, indent: 0)
        case .array(let items), .set(let items):
            lines = tableLines(items, indent: 0)
        default:
            lines = []
        }
        for line in lines {
            out.append(line)
            out.append("\n")
        }
    }

    // MARK: - Two-column fields

    private enum Entry {
        /// `key  value` on one line.
        case inline(key: String, cell: Cell)
        /// `key:` and lines under it (already indented).
        case block(key: String, lines: [String])
    }

    /// The lines of a report's fields, indented by `indent` spaces.
    private func fieldLines(_ pairs: [RESPPair], indent: Int) -> [String] {
        let entries: [Entry] = pairs.map { pair in
            let key = ReportTableRenderer.keyText(pair.key)
            let value = ReplyFormatter.unwrap(pair.value)
            if ReplyFormatter.isReport(value), case .map(let inner) = value {
                return .block(key: key, lines: fieldLines(inner, indent: indent + ReportTableRenderer.nesting))
            }
            if ReplyFormatter.isReportList(value), let rows = value.elements {
                return .block(key: key, lines: tableLines(rows, indent: indent + ReportTableRenderer.nesting))
            }
            if let cell = inlineCell(value) {
                return .inline(key: key, cell: cell)
            }
            return .block(key: key, lines: replyLines(value, indent: indent + ReportTableRenderer.nesting))
        }
        let keyWidth = entries.reduce(0) { width, entry in
            if case .inline(let key, _) = entry { return max(width, OutputText.width(key)) }
            return width
        }
        let margin = String(repeating: " ", count: indent)
        var lines: [String] = []
        for entry in entries {
            switch entry {
            case .inline(let key, let cell):
                if cell.text.isEmpty {
                    lines.append(margin + key)
                } else {
                    lines.append(margin + OutputText.pad(key, to: keyWidth) + ReportTableRenderer.gap + styled(cell))
                }
            case .block(let key, let sub):
                lines.append(margin + key + ":")
                lines.append(contentsOf: sub)
            }
        }
        return lines
    }

    /// A Redis reply kept in a report: redis-cli's look, indented.
    private func replyLines(_ value: RESPValue, indent: Int) -> [String] {
        var tmp = OutputBytes()
        ReplyHumanRenderer(color: color).render(value, prefix: "", into: &tmp)
        let margin = String(repeating: " ", count: indent)
        var text = tmp.string
        if text.hasSuffix("\n") { text.removeLast() }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { margin + $0 }
    }

    // MARK: - Tables

    /// A table with one row per report in `rows`; columns are the union of the rows' keys in
    /// order of first appearance; a missing cell is `-`.
    private func tableLines(_ rows: [RESPValue], indent: Int) -> [String] {
        var columns: [String] = []
        var columnIndex: [String: Int] = [:]
        var cellRows: [[Int: Cell]] = []
        for row in rows {
            guard case .map(let pairs) = ReplyFormatter.unwrap(row) else { continue }
            var cells: [Int: Cell] = [:]
            for pair in pairs {
                let key = ReportTableRenderer.keyText(pair.key)
                let column: Int
                if let known = columnIndex[key] {
                    column = known
                } else {
                    column = columns.count
                    columns.append(key)
                    columnIndex[key] = column
                }
                if cells[column] == nil { cells[column] = tableCell(pair.value) }
            }
            cellRows.append(cells)
        }
        let missing = Cell(text: "-", style: .dim)
        var widths = columns.map { OutputText.width($0) }
        for cells in cellRows {
            for (column, cell) in cells { widths[column] = max(widths[column], OutputText.width(cell.text)) }
        }
        let margin = String(repeating: " ", count: indent)
        var lines = [margin + line(columns.map { Cell(text: $0, style: .bold) }, widths: widths)]
        for cells in cellRows {
            lines.append(margin + line((0..<columns.count).map { cells[$0] ?? missing }, widths: widths))
        }
        return lines
    }

    /// One table line: cells padded to their column's width, no padding after the last
    /// non-empty cell.
    private func line(_ cells: [Cell], widths: [Int]) -> String {
        guard let last = cells.lastIndex(where: { !$0.text.isEmpty }) else { return "" }
        var text = ""
        for (column, cell) in cells[...last].enumerated() {
            if column > 0 { text += ReportTableRenderer.gap }
            text += styled(cell)
            if column < last {
                text += String(repeating: " ", count: max(0, widths[column] - OutputText.width(cell.text)))
            }
        }
        return text
    }

    // MARK: - Cells

    /// A value's text on one line, and its colour.
    private struct Cell {
        var text: String
        var style: OutputStyle?
    }

    private func styled(_ cell: Cell) -> String {
        guard let style = cell.style else { return cell.text }
        return style.apply(cell.text, enabled: color)
    }

    /// A table cell: the value on one line, in compact JSON when it is not a scalar nor a flat list.
    private func tableCell(_ value: RESPValue) -> Cell {
        let value = ReplyFormatter.unwrap(value)
        if let cell = inlineCell(value) { return cell }
        var tmp = OutputBytes()
        ReplyJSONRenderer.render(value, into: &tmp)
        return Cell(text: tmp.string, style: nil)
    }

    /// The one-line form of a scalar, of an empty aggregate (`(none)`), or of an array or set of
    /// scalars (joined by `, `); nil for other values.
    private func inlineCell(_ value: RESPValue) -> Cell? {
        let value = ReplyFormatter.unwrap(value)
        if let cell = ReportTableRenderer.scalarCell(value) { return cell }
        if ReplyFormatter.isEmptyAggregate(value) { return Cell(text: "(none)", style: .dim) }
        switch value {
        case .array(let items), .set(let items):
            var texts: [String] = []
            for item in items {
                guard let cell = ReportTableRenderer.scalarCell(ReplyFormatter.unwrap(item)) else { return nil }
                texts.append(cell.text)
            }
            return Cell(text: texts.joined(separator: ", "), style: nil)
        default:
            return nil
        }
    }

    /// Scalars shown plainly: strings unquoted, numbers as digits, booleans `yes`/`no`, nil `-`.
    private static func scalarCell(_ value: RESPValue) -> Cell? {
        switch value {
        case .simpleString(let b), .bulkString(let b):
            return Cell(text: OutputText.plain(b), style: nil)
        case .verbatimString(_, let text):
            return Cell(text: OutputText.plain(text), style: nil)
        case .integer(let i):
            return Cell(text: String(i), style: nil)
        case .double(let d):
            return Cell(text: OutputText.double(d), style: nil)
        case .bigNumber(let digits):
            return Cell(text: digits, style: nil)
        case .boolean(let flag):
            return Cell(text: flag ? "yes" : "no", style: nil)
        case .null:
            return Cell(text: "-", style: .dim)
        case .simpleError(let b), .bulkError(let b):
            return Cell(text: "(error) " + OutputText.plain(b), style: .red)
        case .attributed(_, let inner):
            return scalarCell(inner)
        case .array, .set, .push, .map:
            return nil
        }
    }

    /// The text of a report key (a simple string; other keys in their one-line form).
    private static func keyText(_ key: RESPValue) -> String {
        if let cell = scalarCell(ReplyFormatter.unwrap(key)) { return cell.text }
        var tmp = OutputBytes()
        ReplyJSONRenderer.render(key, into: &tmp)
        return tmp.string
    }
}
