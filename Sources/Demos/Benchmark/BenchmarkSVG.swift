import Foundation

/// `benchmark report FILE...`: the rows of several CSV files as one SVG bar chart, one group
/// of bars per benchmark and label (update-token plain, commands set...), one bar per file,
/// so runs (machines, versions, redis-py beside redkeep) can be compared at a glance.
public enum BenchmarkSVG {
    /// The SVG text for `files` (name and rows), calls per second on a common scale.
    public static func render(_ files: [(name: String, rows: [BenchmarkRow])]) -> String {
        var groups: [String] = []
        for file in files {
            for row in file.rows where !groups.contains(key(row)) { groups.append(key(row)) }
        }
        let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"]
        let top = files.flatMap { $0.rows.map(\.callsPerSecond) }.max() ?? 1
        let labelWidth = 220.0, plotWidth = 520.0, barHeight = 16.0, gap = 10.0
        let groupHeight = Double(files.count) * barHeight + gap
        let legendHeight = Double(files.count) * 18 + 10
        let height = 50 + legendHeight + Double(groups.count) * groupHeight + 20
        let width = labelWidth + plotWidth + 130
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="24" font-size="16">Calls per second (longer is faster)</text>

            """
        for (i, file) in files.enumerated() {
            let y = 40 + Double(i) * 18
            svg += "<rect x=\"10\" y=\"\(y)\" width=\"12\" height=\"12\" fill=\"\(palette[i % palette.count])\"/>"
            svg += "<text x=\"28\" y=\"\(y + 10)\">\(escape(file.name))</text>\n"
        }
        for (g, group) in groups.enumerated() {
            let y0 = 50 + legendHeight + Double(g) * groupHeight
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y0 + Double(files.count) * barHeight / 2 + 4)\" text-anchor=\"end\">\(escape(group))</text>\n"
            for (i, file) in files.enumerated() {
                guard let row = file.rows.first(where: { key($0) == group }) else { continue }
                let y = y0 + Double(i) * barHeight
                let w = max(1, row.callsPerSecond / top * plotWidth)
                svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(String(format: "%.1f", w))\" height=\"\(barHeight - 2)\" fill=\"\(palette[i % palette.count])\"/>"
                svg += "<text x=\"\(labelWidth + w + 6)\" y=\"\(y + barHeight - 5)\">\(BarChart.groupedDigits(row.callsPerSecond))/s</text>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }

    /// Reads the CSV files and writes the chart to `output` atomically.
    public static func write(csvFiles: [String], to output: String) throws -> [(name: String, rows: [BenchmarkRow])] {
        guard !csvFiles.isEmpty else { throw BenchmarkError(.invalidRequest, "benchmark report needs at least one CSV file (written by --save FILE.csv)") }
        let files = try csvFiles.map { (name: ($0 as NSString).lastPathComponent, rows: try BenchmarkCSV.read($0)) }
        try writeAtomically(render(files), to: output)
        return files
    }

    static func key(_ row: BenchmarkRow) -> String { "\(row.benchmark) \(row.label)" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
