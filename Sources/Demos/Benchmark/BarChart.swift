/// Horizontal bars of █ characters for a terminal, the longest bar `width` cells, with
/// eighth-cell ends so that close figures still differ.
public enum BarChart {
    /// One line per bar: `label  ████▍  12,345 unit`.
    public static func render(_ bars: [(label: String, value: Double)], unit: String, width: Int = 40) -> String {
        let top = bars.map(\.value).max() ?? 0
        let labelWidth = bars.map(\.label.count).max() ?? 0
        let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var lines: [String] = []
        for bar in bars {
            let cells = top > 0 ? max(0, bar.value) / top * Double(width) : 0
            let whole = Int(cells)
            let part = Int((cells - Double(whole)) * 8)
            var line = bar.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  "
            line += String(repeating: "█", count: whole) + eighths[part]
            line += String(repeating: " ", count: max(0, width - whole - (part > 0 ? 1 : 0)))
            line += "  " + groupedDigits(bar.value) + " " + unit
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    /// `12,345` with thousands separators.
    public static func groupedDigits(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let whole = String(Int(value.rounded()))
        var out = ""
        for (i, c) in whole.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
